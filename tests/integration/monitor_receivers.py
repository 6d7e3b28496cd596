"""Real receivers for the expiry monitor's integration test.

An SMTP server (aiosmtpd, Debian's python3-aiosmtpd) that writes every
message it accepts to DIR/mail/N.eml, preceded by "X-Envelope-To:" lines,
and an HTTP server that writes the body of every POST to DIR/hooks/N.json
(answered 200), except while DIR/down exists: then it answers 503 and
keeps nothing. Both listen on free loopback ports, written to
DIR/ready as "smtp=PORT" and "webhook=PORT" once they serve.

Usage: /usr/bin/python3 monitor_receivers.py DIR
"""

import asyncio
import http.server
import itertools
import os
import socket
import sys
import threading

from aiosmtpd.smtp import SMTP

DIR = sys.argv[1]
os.makedirs(os.path.join(DIR, "mail"), exist_ok=True)
os.makedirs(os.path.join(DIR, "hooks"), exist_ok=True)
counter = itertools.count(1)
lock = threading.Lock()


def keep(sub, suffix, data):
    with lock:
        n = next(counter)
    tmp = os.path.join(DIR, sub, "%d.tmp" % n)
    with open(tmp, "wb") as f:
        f.write(data)
    # Renamed into place: a reader never sees half a message.
    os.rename(tmp, os.path.join(DIR, sub, "%d.%s" % (n, suffix)))


class MailHandler:
    async def handle_DATA(self, server, session, envelope):
        head = b"".join(b"X-Envelope-To: " + r.encode() + b"\r\n"
                        for r in envelope.rcpt_tos)
        head += b"X-Envelope-From: " + envelope.mail_from.encode() + b"\r\n"
        keep("mail", "eml", head + envelope.original_content)
        return "250 OK"


class HookHandler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if os.path.exists(os.path.join(DIR, "down")):
            self.send_response(503)
            self.end_headers()
            return
        ctype = self.headers.get("Content-Type", "")
        keep("hooks", "json", ctype.encode() + b"\n" + body)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, fmt, *args):
        pass


def main():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), HookHandler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(
        loop.create_server(lambda: SMTP(MailHandler(), hostname="sink.test"),
                           sock=sock))
    ready = os.path.join(DIR, "ready")
    with open(ready + ".tmp", "w") as f:
        f.write("smtp=%d\nwebhook=%d\n" % (sock.getsockname()[1],
                                           httpd.server_address[1]))
    os.rename(ready + ".tmp", ready)
    try:
        loop.run_forever()
    finally:
        server.close()


main()
