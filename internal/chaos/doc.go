// Package chaos holds DayTrader's fault-injection tests: they run the real
// binary (`daytrader dev`, `daytrader worker`) against a real Postgres, break
// something in the middle of a workload (kill -9 the worker, restart the whole
// stack, stop Postgres, make the legacy quote server slow or unreachable) and
// then prove from the audit history that nothing acknowledged was lost and
// nothing ran twice. A ledger check re-runs the pure trading rules over each
// account's commands at the times the audit recorded and must reproduce the
// account's state and audit records exactly.
//
// Beside the faults: TestSecurity* send what any Temporal client could
// (commands for another user, hostile user ids, forged trigger hits,
// malformed payloads) straight to the accounts, and TestSQLIsParameterized
// checks that every SQL text reaching a database call is a constant.
//
// The package has tests only. `make chaos` runs the fault tests verbosely;
// the environment variables below make them bigger (the defaults keep each
// scenario well under a minute so that `make test` runs them all):
//
//	CHAOS_USERS     users of the generated workload (default 20)
//	CHAOS_LINES     lines of the generated workload (default 3000)
//	CHAOS_SEED      generator seed (default 1)
//	CHAOS_KILLS     worker kill -9s in TestFaultWorkerKill (default 1)
//	CHAOS_WORKLOAD  a course workload file in ../shared/workloads that
//	                TestChaosLedger runs instead of the generated workload
//	                (100User_testWorkLoad is the full course run)
//
// TestClusterNodeKill runs a two-node Temporal cluster (`daytrader
// temporal-node`) and kill -9s one node mid-run; its workload defaults to 20
// users and 6,000 lines (`make chaos`: 100 users, 50,000 lines).
//
// A run bigger than the defaults is a heavy variant: `go test -short` skips it.
package chaos
