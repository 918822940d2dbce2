"""Checks of the pure figures of bench/faults (measure.partition_figures):
    /usr/bin/python3 -m unittest discover -s bench/py -p 'test_*.py'"""
import unittest

from measure import partition_figures

S = 10**9
OLD, NEW = 5001, 5002


def ack(i, t, port, conn_t=0):
    return (i, int(t * S), port, 1, int(conn_t * S))


class PartitionFigures(unittest.TestCase):
    def figures(self, acks, present, t_cut=2.5, t_heal=20.0):
        return partition_figures(sorted(acks, key=lambda a: a[1]), int(t_cut * S), int(t_heal * S), OLD, present)

    def test_outage_and_how_long_the_old_primary_acknowledged(self):
        f = self.figures([ack(1, 1, OLD), ack(2, 2, OLD), ack(3, 4.5, OLD), ack(4, 7, NEW, 6)], {1, 2, 4})
        self.assertEqual(f["outage_s"], 5.0)          # 2 s (last before the cut) -> 7 s
        self.assertEqual(f["writable_s"], 4.5)        # cut at 2.5 s -> 7 s
        self.assertEqual(f["client_gap_s"], 2.5)      # 4.5 s (old primary's late ack) -> 7 s
        self.assertEqual(f["old_last_ack_s"], 2.0)
        self.assertEqual(f["old_acks_after_new"], 0)
        self.assertEqual(f["new_primary_port"], NEW)

    def test_two_writers_and_lost_commits(self):
        acks = [ack(1, 1, OLD), ack(2, 3, OLD), ack(3, 7, NEW, 6), ack(4, 8, OLD)]
        f = self.figures(acks, {1, 3})
        self.assertEqual(f["old_acks_after_new"], 1)   # id 4, after the new primary's first
        self.assertEqual(f["lost"], 2)
        self.assertEqual(f["lost_old_after_cut"], 2)

    def test_old_node_primary_again_after_the_heal_is_no_late_writer(self):
        acks = [ack(1, 1, OLD), ack(2, 7, NEW, 6), ack(3, 30, OLD, 25)]   # fresh connection after the heal
        f = self.figures(acks, {1, 2, 3})
        self.assertEqual(f["old_acks_after_cut"], 0)
        self.assertIsNone(f["old_last_ack_s"])
        self.assertEqual(f["lost"], 0)

    def test_no_new_primary(self):
        f = self.figures([ack(1, 1, OLD), ack(2, 3, OLD)], None)
        self.assertIsNone(f["outage_s"])
        self.assertIsNone(f["writable_s"])
        self.assertIsNone(f["lost"])
        self.assertEqual(f["old_acks_after_new"], 0)


if __name__ == "__main__":
    unittest.main()
