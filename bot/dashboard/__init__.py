"""The leads' dashboard: server-rendered pages under ``/dashboard`` on ``supportbot serve``'s HTTP server
(docs/architecture.md §8). ``auth`` signs links and sessions, ``pages`` reads what each page shows from the
store, ``tables`` and ``charts`` shape it, ``server`` holds the routes; ``templates/`` and ``static/`` are
package data, so the bot serves everything itself."""
