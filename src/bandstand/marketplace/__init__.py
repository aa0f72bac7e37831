"""The instrument marketplace: listings scraped from second-hand sites, their search and import."""
