"""Open311 GeoReport v2 reads and writes: listing (public requests), definitions (services), posting."""

# The channel an Open311 client's tickets and reporters carry.
API_CHANNEL = "open311"
