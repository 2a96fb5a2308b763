"""Channel-agnostic conversations: an Inbound goes in, Outbound replies come out."""
