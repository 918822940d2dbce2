"""The writer client, the same for both systems: one row per transaction through libpq multi-host
(target_session_attrs=read-write, connect_timeout=1), as an application would.

    writer.py CONNINFO ACKS_FILE FIRST_ID

Each acknowledged commit is one line in ACKS_FILE: `id ack_ns port conn_serial conn_ns`, where
ack_ns is CLOCK_MONOTONIC (shared by every process on the machine) right after COMMIT returned,
port is the server that acknowledged it, and conn_ns is when that connection was opened.
Errors go to ACKS_FILE.err. Runs until SIGTERM.
"""
import signal
import sys
import time

import psycopg2

stop = False


def on_term(*_):
    global stop
    stop = True


def main():
    conninfo, path, next_id = sys.argv[1], sys.argv[2], int(sys.argv[3])
    signal.signal(signal.SIGTERM, on_term)
    acks = open(path, "w", buffering=1)
    errs = open(path + ".err", "w", buffering=1)
    conn, serial, conn_ns, port = None, 0, 0, 0
    while not stop:
        try:
            if conn is None:
                conn = psycopg2.connect(conninfo)
                conn.autocommit = True
                serial += 1
                conn_ns = time.monotonic_ns()
                port = conn.info.port
                cur = conn.cursor()
            cur.execute("INSERT INTO bench_writes (id) VALUES (%s)", (next_id,))
            acks.write(f"{next_id} {time.monotonic_ns()} {port} {serial} {conn_ns}\n")
            next_id += 1
        except psycopg2.Error as e:
            errs.write(f"{time.monotonic_ns()} {port if conn else 0} {str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__}\n")
            if conn is not None:
                try:
                    conn.close()
                except psycopg2.Error:
                    pass
            conn = None
            next_id += 1  # the commit may have happened unacknowledged: never reuse the id
            time.sleep(0.01)  # every host refused at once: do not spin
    acks.close()
    errs.close()


if __name__ == "__main__":
    main()
