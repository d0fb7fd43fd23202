"""Plans over the API: the `plan` request field, streamed plan events, /v1/plans."""
