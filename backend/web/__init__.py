"""What the REST API and the staff console share: the app keys and who is asking."""
