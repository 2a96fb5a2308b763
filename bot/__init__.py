"""Channel adapters (terminal, WeChat, Telegram, web try-out), the app factory and the CLI."""
