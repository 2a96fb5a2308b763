"""Standard exports for the hospital's systems and reports: a booking as a FHIR R4 Bundle, and
bookings and workload statistics as CSV. Each export of personal data writes an access record."""
