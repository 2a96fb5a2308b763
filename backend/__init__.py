"""Storage, domain services and the REST API of jiahu. Imports nothing from bot/ or flows/."""
