#!/usr/bin/env python3
"""An HTTPS server that speaks only HTTP/2 (ALPN "h2"), for FMAHTTPClient's tests.

Listens on 127.0.0.1 and a free port; writes the port to --ready-file once it listens; ends by
itself after --lifetime seconds. Uses the `h2` package (scripts/setup.sh installs it).

Routes:
  /proto                 JSON: {"protocol": "h2", "authorization": <header or null>}
  /ndjson?count&interval_ms   `count` lines {"index": i}, one DATA frame each, spaced out
"""
import argparse
import json
import socket
import ssl
import threading
import time
import urllib.parse

import h2.config
import h2.connection
import h2.events


def respond(sock, conn, stream_id, path, headers):
    url = urllib.parse.urlsplit(path)
    query = dict(urllib.parse.parse_qsl(url.query))
    if url.path == "/proto":
        body = json.dumps({"protocol": "h2", "authorization": headers.get("authorization")}).encode()
        conn.send_headers(stream_id, [(":status", "200"), ("content-type", "application/json"), ("content-length", str(len(body)))])
        conn.send_data(stream_id, body, end_stream=True)
        sock.sendall(conn.data_to_send())
    elif url.path == "/ndjson":
        count = int(query.get("count", "3"))
        interval = int(query.get("interval_ms", "50")) / 1000
        conn.send_headers(stream_id, [(":status", "200"), ("content-type", "application/x-ndjson")])
        sock.sendall(conn.data_to_send())
        for index in range(count):
            conn.send_data(stream_id, (json.dumps({"index": index}) + "\n").encode(), end_stream=index == count - 1)
            sock.sendall(conn.data_to_send())
            time.sleep(interval)
    else:
        conn.send_headers(stream_id, [(":status", "404"), ("content-length", "0")], end_stream=True)
        sock.sendall(conn.data_to_send())


def serve(sock):
    conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
    conn.initiate_connection()
    sock.sendall(conn.data_to_send())
    try:
        while True:
            data = sock.recv(65535)
            if not data:
                return
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.RequestReceived):
                    headers = dict(event.headers)
                    respond(sock, conn, event.stream_id, headers.get(":path", "/"), headers)
            pending = conn.data_to_send()
            if pending:
                sock.sendall(pending)
    except Exception:  # a client that is not HTTP/2, or went away: end the connection
        return
    finally:
        sock.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ready-file", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--lifetime", type=float, default=120)
    args = parser.parse_args()

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    context.set_alpn_protocols(["h2"])
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.5)
    with open(args.ready_file + ".tmp", "w") as ready:
        ready.write(str(listener.getsockname()[1]))
    import os
    os.rename(args.ready_file + ".tmp", args.ready_file)

    deadline = time.monotonic() + args.lifetime
    while time.monotonic() < deadline:
        try:
            raw, _ = listener.accept()
        except socket.timeout:
            continue
        raw.settimeout(30)
        try:
            tls = context.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            raw.close()
            continue
        if tls.selected_alpn_protocol() != "h2":
            tls.close()  # HTTP/2 only: a client that did not offer it gets nothing
            continue
        threading.Thread(target=serve, args=(tls,), daemon=True).start()


if __name__ == "__main__":
    main()
