"""The clinic hand-off: consultation requests, photos, the FHIR export and the clinicians' side."""
