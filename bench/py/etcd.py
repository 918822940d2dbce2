"""One etcd member on loopback for one cluster, and its request counters."""
import json
import os
import time
import urllib.request

import procs


class Etcd:
    def __init__(self, base):
        self.dir = os.path.join(base, "etcd")
        os.makedirs(self.dir, exist_ok=True)
        self.port, self.peer = procs.free_port(), procs.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        peer = f"http://127.0.0.1:{self.peer}"
        self.proc = procs.spawn(
            ["etcd", "--name", "e1", "--data-dir", os.path.join(self.dir, "data"),
             "--listen-client-urls", self.url, "--advertise-client-urls", self.url,
             "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
             "--initial-cluster", f"e1={peer}", "--initial-cluster-state", "new"],
            os.path.join(self.dir, "etcd.log"))
        end = time.monotonic() + 30
        while time.monotonic() < end:
            try:
                urllib.request.urlopen(self.url + "/health", timeout=1).read()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("etcd did not start: see " + self.dir + "/etcd.log")

    def put(self, key, value):
        import base64
        b = lambda s: base64.b64encode(s.encode()).decode()
        body = json.dumps({"key": b(key), "value": b(value)}).encode()
        urllib.request.urlopen(urllib.request.Request(self.url + "/v3/kv/put", data=body), timeout=5).read()

    def counters(self):
        """(RPCs handled, messages received) since etcd started, from /metrics. Requests through
        the JSON gateway are counted here too: the gateway calls etcd's gRPC server."""
        text = urllib.request.urlopen(self.url + "/metrics", timeout=5).read().decode()
        handled = received = 0.0
        for line in text.splitlines():
            if line.startswith("grpc_server_handled_total{"):
                handled += float(line.rsplit(" ", 1)[1])
            elif line.startswith("grpc_server_msg_received_total{"):
                received += float(line.rsplit(" ", 1)[1])
        return handled, received

    def by_method(self):
        """{grpc_method: RPCs handled} since etcd started."""
        text = urllib.request.urlopen(self.url + "/metrics", timeout=5).read().decode()
        out = {}
        for line in text.splitlines():
            if line.startswith("grpc_server_handled_total{"):
                m = line.split('grpc_method="', 1)[1].split('"', 1)[0]
                out[m] = out.get(m, 0.0) + float(line.rsplit(" ", 1)[1])
        return out

    def rates(self, seconds):
        """etcd requests per second over `seconds`: (handled RPCs, received messages, {method: RPCs/s})."""
        h0, r0 = self.counters()
        m0 = self.by_method()
        t0 = time.monotonic()
        time.sleep(seconds)
        h1, r1 = self.counters()
        m1 = self.by_method()
        dt = time.monotonic() - t0
        methods = {k: round((v - m0.get(k, 0.0)) / dt, 2) for k, v in m1.items() if v > m0.get(k, 0.0)}
        return (h1 - h0) / dt, (r1 - r0) / dt, methods
