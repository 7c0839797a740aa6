#!/usr/bin/env python3
"""A small HTTP(S) server for FMAHTTPClient's tests, on 127.0.0.1 and a free port.

Writes its port to --ready-file once it listens. With --cert/--key it serves HTTPS; with
--client-ca as well it requires a client certificate signed by that CA. Every wait is bounded,
so a forgotten server ends by itself after --lifetime seconds.

Routes (any method unless noted):
  /echo                 JSON: method, target (as received), headers, body (base64), client_cn
  /status/N             status N, body "status N"
  /hang                 never answers (up to 30 s)
  /ndjson?count&interval_ms   chunked NDJSON lines {"index": i}, one chunk each, spaced out
  /forever?interval_ms  chunked lines until the client goes away (counted in /stats)
  /bytes?count[&chunked=1]    count bytes, byte i = i % 251; progress in /stats
  /multi                two X-Multi headers
  /stats                JSON: disconnects, bytes_sent
"""
import argparse
import base64
import json
import os
import socketserver
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

stats_lock = threading.Lock()
stats = {"disconnects": 0, "bytes_sent": 0}


def bump(key, amount=1):
    with stats_lock:
        stats[key] += amount


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass

    def setup(self):
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.settimeout(10)
            self.connection.do_handshake()
            self.connection.settimeout(None)

    def handle(self):
        try:
            super().handle()
        except (ssl.SSLError, ConnectionError, TimeoutError):
            pass

    def do_GET(self):
        self.route()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = do_GET

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send(self, status, body, content_type="text/plain", extra=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def route(self):
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        path = url.path
        body = self.read_body()
        if path == "/echo":
            cn = None
            if isinstance(self.connection, ssl.SSLSocket):
                cert = self.connection.getpeercert()
                if cert:
                    for rdn in cert.get("subject", ()):
                        for key, value in rdn:
                            if key == "commonName":
                                cn = value
            answer = {
                "method": self.command,
                "target": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": base64.b64encode(body).decode(),
                "client_cn": cn,
            }
            self.send(200, json.dumps(answer).encode(), "application/json")
        elif path.startswith("/status/"):
            status = int(path[len("/status/"):])
            self.send(status, b"" if status in (204, 304) else b"status %d" % status)
        elif path == "/hang":
            time.sleep(30)
        elif path == "/ndjson":
            count = int(query.get("count", "5"))
            interval = int(query.get("interval_ms", "50")) / 1000
            self.start_chunked("application/x-ndjson")
            for index in range(count):
                if index:
                    time.sleep(interval)
                self.chunk(json.dumps({"index": index}).encode() + b"\n")
            self.wfile.write(b"0\r\n\r\n")
        elif path == "/forever":
            interval = int(query.get("interval_ms", "10")) / 1000
            self.start_chunked("application/x-ndjson")
            deadline = time.monotonic() + 60
            index = 0
            try:
                while time.monotonic() < deadline:
                    self.chunk(json.dumps({"index": index}).encode() + b"\n")
                    index += 1
                    time.sleep(interval)
                self.wfile.write(b"0\r\n\r\n")
            except (ConnectionError, ssl.SSLError):
                bump("disconnects")
                self.close_connection = True
        elif path == "/bytes":
            count = int(query.get("count", "0"))
            chunked = query.get("chunked") == "1"
            with stats_lock:
                stats["bytes_sent"] = 0
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            if chunked:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.send_header("Content-Length", str(count))
            self.end_headers()
            pattern = bytes(i % 251 for i in range(251 * 261))  # 65511 bytes, a whole number of periods
            sent = 0
            try:
                while sent < count:
                    piece = pattern[: min(len(pattern), count - sent)]
                    if chunked:
                        self.chunk(piece)
                    else:
                        self.wfile.write(piece)
                    sent += len(piece)
                    bump("bytes_sent", len(piece))
                if chunked:
                    self.wfile.write(b"0\r\n\r\n")
            except (ConnectionError, ssl.SSLError):
                bump("disconnects")
                self.close_connection = True
        elif path == "/multi":
            self.send(200, b"multi", extra=[("X-Multi", "a"), ("X-Multi", "b")])
        elif path == "/stats":
            with stats_lock:
                answer = dict(stats)
            self.send(200, json.dumps(answer).encode(), "application/json")
        else:
            self.send(404, b"no route " + path.encode())

    def start_chunked(self, content_type):
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def handle_error(self, request, client_address):
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ready-file", required=True)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--client-ca")
    parser.add_argument("--lifetime", type=float, default=300)
    args = parser.parse_args()

    server = Server(("127.0.0.1", 0), Handler)
    if args.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)
        if args.client_ca:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(args.client_ca)
        server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)

    threading.Timer(args.lifetime, lambda: os._exit(0)).start()
    port = server.server_address[1]
    temporary = args.ready_file + ".tmp"
    with open(temporary, "w") as ready:
        ready.write(f"{port}\n")
    os.rename(temporary, args.ready_file)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
