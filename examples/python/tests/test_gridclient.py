"""gridclient against a real gridd (ctest python_gridclient).

Starts $GRIDD on 127.0.0.1 port 0 in a temp dir with the demo directory and a
token file, learns its port from --port-file, and drives it through
gridclient. A watch goes through a TCP forwarder whose connections the test
cuts, to break the stream the way a network does.
"""

import faulthandler
import os
import socket
import subprocess
import tempfile
import threading
import time
import unittest

import grpc

from grid.v1 import case_pb2
from gridclient import GridClient, GridError

TOKEN = "py-admin-token-0123456789"
JINJIANG = (19.718341, 110.018842)  # the demo county's Jinjiang grid (kDemoJinjiangPoint)


def setUpModule():
    faulthandler.dump_traceback_later(120, exit=True)  # a hung test fails, with a traceback


def tearDownModule():
    faulthandler.cancel_dump_traceback_later()


class CuttableProxy:
    """Forwards 127.0.0.1:port to gridd; cut() closes every open connection."""

    def __init__(self, target_port: int, port: int = 0):
        self._target = target_port
        self._listener = socket.create_server(("127.0.0.1", port))
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._sockets = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                down, _ = self._listener.accept()
            except OSError:
                return
            up = socket.create_connection(("127.0.0.1", self._target))
            with self._lock:
                self._sockets += [down, up]
            threading.Thread(target=self._pump, args=(down, up), daemon=True).start()
            threading.Thread(target=self._pump, args=(up, down), daemon=True).start()

    @staticmethod
    def _pump(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for s in sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def stop(self):
        try:
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()
        self.cut()


class Gridd:
    """gridd on 127.0.0.1 port 0 in a temp dir, with the demo directory and a
    token file; `extra` adds flags."""

    def __init__(self, extra=()):
        self.tmp = tempfile.TemporaryDirectory(prefix="gridclient-py-")
        tokens = self.path("tokens")
        with open(os.open(tokens, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(f"{TOKEN} admin * py-test\n")
        port_file = self.path("port")
        self.log = open(self.path("gridd.log"), "w")
        self.process = subprocess.Popen(
            [os.environ["GRIDD"], "--listen", "127.0.0.1:0", "--data", self.path("data"),
             "--port-file", port_file, "--tokens", tokens, *extra],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while not os.path.exists(port_file):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.process.kill()
                with open(self.log.name) as log:
                    raise RuntimeError("gridd did not start:\n" + log.read())
            time.sleep(0.05)
        with open(port_file) as f:
            self.port = int(f.read().strip())

    def path(self, name: str) -> str:
        return os.path.join(self.tmp.name, name)

    def stop(self):
        self.process.terminate()
        self.process.wait(10)
        self.log.close()
        self.tmp.cleanup()


class GridClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.gridd = Gridd()
        cls.port = cls.gridd.port
        cls.client = GridClient(f"127.0.0.1:{cls.port}", token=TOKEN)

    @classmethod
    def tearDownClass(cls):
        cls.client.close()
        cls.gridd.stop()

    def submit(self, key: str) -> case_pb2.Case:
        return self.client.submit(idempotency_key=key, category="sanitation.garbage", description="小区门口垃圾堆积",
                                  lat=JINJIANG[0], lng=JINJIANG[1])

    def test_submit_read_work_to_closed_and_watch_with_a_resume(self):
        proxy = CuttableProxy(self.port)
        self.addCleanup(proxy.stop)
        watcher_client = GridClient(f"127.0.0.1:{proxy.port}", token=TOKEN)
        self.addCleanup(watcher_client.close)
        watch = watcher_client.watch(all_changes=True)
        self.addCleanup(watch.close)
        entries = iter(watch)

        case = self.submit("py-flow-1")
        self.assertEqual(case.status, case_pb2.CASE_STATUS_ROUTED)
        self.assertEqual(self.submit("py-flow-1").id, case.id)  # the same key: the same case
        got = self.client.get_case(case.id)
        self.assertEqual(got.case.id, case.id)
        self.assertEqual([e.type for e in got.events], [case_pb2.EVENT_TYPE_SUBMITTED, case_pb2.EVENT_TYPE_ROUTED])

        seen = []

        def read_until(event_type):
            for entry in entries:
                if entry.event.case_id == case.id:
                    seen.append(entry)
                    if entry.event.type == event_type:
                        return

        read_until(case_pb2.EVENT_TYPE_ROUTED)
        proxy.cut()  # the stream breaks while the case is worked
        closed = self.client.work_to_closed(case, resolution="垃圾已清运")
        self.assertEqual(closed.status, case_pb2.CASE_STATUS_CLOSED)
        read_until(case_pb2.EVENT_TYPE_CLOSED)

        self.assertGreaterEqual(watch.reconnects, 1)
        self.assertEqual([e.event.seq for e in seen], list(range(1, closed.version + 1)))  # no gap, no duplicate
        cursors = [e.cursor for e in seen]
        self.assertEqual(cursors, sorted(set(cursors)))
        self.assertEqual([e.event.type for e in seen][-5:], [
            case_pb2.EVENT_TYPE_ACCEPTED, case_pb2.EVENT_TYPE_WORK_STARTED, case_pb2.EVENT_TYPE_RESOLVED,
            case_pb2.EVENT_TYPE_CALLED_BACK, case_pb2.EVENT_TYPE_CLOSED])

    def test_stale_expected_version_is_refused_with_its_reason(self):
        case = self.submit("py-stale-1")
        self.client.accept(case.id, case.version)
        with self.assertRaises(GridError) as raised:
            self.client.start_work(case.id, case.version)  # the version before the accept
        self.assertEqual(raised.exception.code, grpc.StatusCode.ABORTED)
        self.assertEqual(raised.exception.reason, "VERSION_MISMATCH")

    def test_bad_case_id_surfaces_the_servers_reason(self):
        with self.assertRaises(GridError) as raised:
            self.client.get_case("not-a-case")
        self.assertEqual(raised.exception.code, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual(raised.exception.reason, "INVALID_CASE_ID")
        self.assertIn("INVALID_CASE_ID", str(raised.exception))

    def test_unknown_token_is_unauthenticated(self):
        with GridClient(f"127.0.0.1:{self.port}", token="no-such-token-0123456789") as stranger:
            with self.assertRaises(GridError) as raised:
                stranger.get_case("1795819623114000")
        self.assertEqual(raised.exception.code, grpc.StatusCode.UNAUTHENTICATED)
        self.assertEqual(raised.exception.reason, "UNKNOWN_TOKEN")

    def test_submit_retries_the_same_key_while_the_server_is_unreachable(self):
        # Nothing listens on the port at first, so the first attempts fail
        # UNAVAILABLE; a forwarder to gridd opens there half a second later.
        closed = CuttableProxy(self.port)
        port = closed.port
        closed.stop()

        def open_later():
            time.sleep(0.5)
            self.addCleanup(CuttableProxy(self.port, port).stop)

        threading.Thread(target=open_later, daemon=True).start()
        retried = []
        with GridClient(f"127.0.0.1:{port}", token=TOKEN, timeout=2) as flaky:
            case = flaky.submit(idempotency_key="py-retry-1", category="sanitation.garbage",
                                description="小区门口垃圾堆积", lat=JINJIANG[0], lng=JINJIANG[1],
                                attempts=8, backoff=0.1, on_retry=lambda n, e: retried.append(e.code))
        self.assertIn(grpc.StatusCode.UNAVAILABLE, retried)
        self.assertEqual(self.submit("py-retry-1").id, case.id)  # one case for the key


class TlsTest(unittest.TestCase):
    """The client over TLS, trusting the CA that signed gridd's certificate."""

    @classmethod
    def setUpClass(cls):
        cls.certs = tempfile.TemporaryDirectory(prefix="gridclient-py-certs-")
        d = cls.certs.name

        def openssl(*args):
            subprocess.run(["openssl", *args], check=True, capture_output=True)

        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        openssl("req", "-x509", *ec, "-days", "2", "-subj", "/CN=gridclient test CA",
                "-keyout", f"{d}/ca.key", "-out", f"{d}/ca.crt")
        openssl("req", *ec, "-subj", "/CN=localhost", "-keyout", f"{d}/server.key", "-out", f"{d}/server.csr")
        with open(f"{d}/server.ext", "w") as f:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
        openssl("x509", "-req", "-in", f"{d}/server.csr", "-CA", f"{d}/ca.crt", "-CAkey", f"{d}/ca.key",
                "-CAcreateserial", "-days", "2", "-out", f"{d}/server.crt", "-extfile", f"{d}/server.ext")
        os.chmod(f"{d}/server.key", 0o600)
        cls.gridd = Gridd(["--tls-cert", f"{d}/server.crt", "--tls-key", f"{d}/server.key"])

    @classmethod
    def tearDownClass(cls):
        cls.gridd.stop()
        cls.certs.cleanup()

    def test_tls_with_the_ca_works_and_plaintext_does_not(self):
        target = f"127.0.0.1:{self.gridd.port}"  # the certificate names the IP
        with GridClient(target, token=TOKEN, ca_file=os.path.join(self.certs.name, "ca.crt")) as tls:
            case = tls.submit(idempotency_key="py-tls-1", category="sanitation.garbage",
                              description="小区门口垃圾堆积", lat=JINJIANG[0], lng=JINJIANG[1])
            self.assertEqual(tls.get_case(case.id).case.id, case.id)
        with GridClient(f"127.0.0.1:{self.gridd.port}", token=TOKEN, timeout=2) as plain:
            with self.assertRaises(GridError) as raised:
                plain.get_case(case.id)
        self.assertEqual(raised.exception.code, grpc.StatusCode.UNAVAILABLE)
        self.assertEqual(raised.exception.reason, "")  # it never reached gridd


if __name__ == "__main__":
    unittest.main()
