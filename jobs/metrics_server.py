"""The jobs process's own /metrics (job runs and the backup age), on a private port."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread

from sayzhong.ops.backup import backup_root
from sayzhong.ops.collector import last_backup
from sayzhong.ops.metrics import render_metrics
from sayzhong.settings import get_settings


class _BackupAge:
    """Only the backup figures: the web replicas already report the database ones."""

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily

        newest = last_backup(backup_root(get_settings()))
        if newest is not None:
            yield GaugeMetricFamily(
                "sayzhong_backup_last_success_timestamp_seconds",
                "Unix time of the newest complete backup.",
                value=newest[0],
            )


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path != "/metrics":
            self.send_error(404)
            return
        token = get_settings().metrics_token
        if token and self.headers.get("authorization") != f"Bearer {token}":
            self.send_error(404)
            return
        body, content_type = render_metrics(_BackupAge())
        self.send_response(200)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:  # scrapes are not worth a log line each
        return


def serve_metrics(port: int, host: str = "0.0.0.0") -> ThreadingHTTPServer:  # noqa: S104 - container-private port
    server = ThreadingHTTPServer((host, port), _Handler)
    Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server
