"""fma: the Python client of fast model actuation's services.

``fma.client`` implements the fma wire protocol (docs/wire-protocol.md): calls over Unix-domain
and TCP sockets, framed protobuf messages, bearer tokens, deadlines, cancellation and stream
flow control. ``fma.v1`` holds the protobuf bindings generated from proto/ (never edit them;
``scripts/gen-proto.sh`` regenerates them).

Quick start::

    from fma import Client
    with Client.connect("unix:/run/fma/launcher.sock") as client:
        print(client.health())

From a shell: ``python3 -m fma health tcp://127.0.0.1:7070 --token-file token``
(``python3 -m fma --help`` lists the commands).
"""

from fma import client as _client
from fma.client import *  # noqa: F401,F403 -- the package's API is exactly fma.client's

__all__ = list(_client.__all__)
