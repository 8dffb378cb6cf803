"""moto's DynamoDB-compatible server for the store tests, one request at a time.

DynamoDB applies each conditional write atomically, and `DynamoDbStore` relies on it: of many
racing `PutItem`s on one key, exactly one acquires. moto's own server handles requests on
threads without a lock around its tables, so two racing conditional writes can both pass.
This runs the same application on the same threaded server, but lets one request at a time
through, which gives the tests the atomicity the real service has.

    python scripts/moto_server.py HOST PORT
"""

import sys
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    application = DomainDispatcherApplication(create_backend_app)
    one_at_a_time = threading.Lock()

    def serialized(environ, start_response):
        with one_at_a_time:
            # The whole answer is produced inside the lock, not only its first part.
            return list(application(environ, start_response))

    run_simple(host, port, serialized, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
