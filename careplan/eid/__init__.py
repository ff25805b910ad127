"""Log in with Swedish e-ID (patients, relatives) and the organisation's IdP (staff).

A thin subclass of django-allauth's OpenID Connect provider (``provider.py``): the same
discovery, state, PKCE and token exchange, plus a nonce, an always-verified ID-token
signature and a uid that is a keyed hash of the personal identity number (never the
number in clear). Who the person is, and what they may become, is decided in
``adapter.py``; ``config.py`` builds the providers from the environment;
``dev_idp.py`` is the local test IdP (development and tests only).
"""
