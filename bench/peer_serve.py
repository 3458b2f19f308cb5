#!/usr/bin/env python3
"""Serves the peer: scim2-server's own application, built as its
`scim2-server` CLI builds it (scim2_server/testserver/cli.py: RFC 7643
schemas and resource types, a service provider configuration file, a static
bearer token, InMemoryStorage, BearerTokenApplication), served by waitress
(keep-alive, a fixed pool of threads) instead of the CLI's wsgiref
ThreadingWSGIServer, which starts a thread per connection and, under
sustained load, piles up thousands of threads in CLOSE-WAIT (seen here:
~9000 after a minute), slowing every later request.

usage: peer_serve.py <port> <token> <service provider config JSON> [threads]
"""

import json
import os
import secrets
import sys

import waitress
from scim2_models import ScimProvider, ServiceProviderConfig

from scim2_server.memory import InMemoryStorage
from scim2_server.service import ScimService
from scim2_server.testserver.application import BEARER_TOKEN_SCHEME, BearerTokenApplication
from scim2_server.utils import load_default_resource_types, load_default_schemas


def main():
    port, token, config_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    threads = int(sys.argv[4]) if len(sys.argv) > 4 else 4
    with open(config_file) as f:
        config = ServiceProviderConfig.model_validate(json.load(f))
    config.authentication_schemes = [*(config.authentication_schemes or []), BEARER_TOKEN_SCHEME]
    provider = ScimProvider.from_discovery(
        load_default_schemas().values(), load_default_resource_types().values(), config=config
    )
    service = ScimService(provider, secret=os.environ.get("SCIM2_SERVER_SECRET") or secrets.token_urlsafe(32))
    app = BearerTokenApplication(InMemoryStorage(), provider, service=service, bearer_tokens=[token])
    server = waitress.create_server(app, host="127.0.0.1", port=port, threads=threads,
                                    connection_limit=64, channel_timeout=60)
    print(f"Serving SCIM on http://127.0.0.1:{port}/v2 (waitress, {threads} threads)", flush=True)
    server.run()


if __name__ == "__main__":
    main()
