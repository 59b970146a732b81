"""Partners: communities of organisations, sharing grants, developer apps and their keys.

Non-open data is shared with an organisation or a community of organisations for a
purpose and a period (``Grant``); partner applications reach the APIs with keys or
OAuth2 client credentials, within scopes, quotas and rate limits. See docs/partners.md.
"""
