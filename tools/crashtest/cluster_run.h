// crashtest --cluster: the crash test against a replicated shard
// (docs/replication.md). Its own 3 etcd members (etcd_members.h) and 3 gridd
// replicas (replica_set.h) on loopback, the same load, subscribers, ack log
// and checker as the single-node run; every 2-5 s of serving (seeded) the
// shard's leader, as etcd names it, is SIGKILLed and started again as a
// follower after --restart-pause-s, so that two replicas always run.
//
// Clock offset 0 throughout: the replicas share the wall clock, so there
// are no deadline rounds (a replica cannot be moved hours ahead of the
// others); the deadlines the run checks are the manual escalations and the
// timers that must not fire twice.
//
// Figures: per kill, the time from the SIGKILL to the first SubmitCase
// acknowledged that was sent after it (and to the new leader key); intake
// (SubmitCase acks/s, latency) between failovers, and with --compare-single
// the same load for as long against one plain gridd first; follower lag
// from the positions the replicas report to etcd, sampled every 200 ms. At
// the end the store is checked through a replica, the replicas must report
// the same position, and each one's store must verify clean
// (gridd --verify) with the same summary.
//
// Thread-safety: RunCluster is called once, from main.
#pragma once

#include "tools/crashtest/harness.h"

namespace grid::crashtest {

// 0 when nothing acknowledged was lost or duplicated, every failover took at
// most o.max_failover_s and the replicas agree; 1 otherwise.
int RunCluster(const Options& o);

}  // namespace grid::crashtest
