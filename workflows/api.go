// Package workflows holds DayTrader's Temporal workflows: one long-lived
// Account workflow per trader, a Trigger child workflow per live buy or sell
// trigger, and the administrator's global DumpLog. The trading rules live in
// package trading; the workflows only order commands, fetch quotes, keep
// timers and children, and write the audit through activities.
//
// This file is the public contract: the task queue, the names of the
// signals, queries and updates, the workflow IDs and the payload types. Any
// Temporal client can use them (the README documents them).
package workflows

import (
	"fmt"
	"time"

	"github.com/daytradinginc/daytrader/trading"
	"github.com/shopspring/decimal"
)

// TaskQueue is the task queue of DayTrader's workers and clients.
const TaskQueue = "daytrader"

// Workflow type names, as workers register them.
const (
	AccountWorkflowType = "Account"
	TriggerWorkflowType = "Trigger"
	DumpLogWorkflowType = "DumpLog"
)

// InvalidInputError is the failure type of an Account or Trigger workflow
// started with input no DayTrader client sends (a malformed user id, say):
// it fails at once, without retries.
const InvalidInputError = "InvalidInput"

// Names of the account workflow's signals, update and queries.
const (
	// SignalCommand carries one trading.Command as JSON.
	SignalCommand = "command"
	// SignalCommands carries an ordered JSON array of trading.Command.
	SignalCommands = "commands"
	// SignalTriggerHit is sent by a Trigger workflow when its price is reached.
	SignalTriggerHit = "trigger-hit"
	// SignalInteractive (no payload) moves an account on the bulk task queue
	// to the interactive one (InteractiveTaskQueue) when it is next idle:
	// a trader uses it now.
	SignalInteractive = "interactive"
	// UpdateExecute runs one command and returns its trading.Result once the
	// command is applied and audited.
	UpdateExecute = "execute"
	// QuerySummary returns the account's trading.Summary.
	QuerySummary = "summary"
	// QueryProgress returns Progress (how many commands were processed).
	QueryProgress = "progress"
)

// SignalReprice tells a Trigger workflow its order's trigger price changed
// (payload: the new price as a decimal string).
const SignalReprice = "reprice"

// AccountTaskTimeout is the account workflows' workflow task timeout,
// Temporal's default. A task that runs its quote fetch for seconds is kept
// alive by the SDK's heartbeat at 80 % of it, counted from when the worker
// began the task, while the server counts from when it handed the task out;
// at 3 s (when the audit was a local activity) the 0.6 s between them was
// too little on an overloaded worker: 8, 17 and 2 tasks of three
// 1,000,000-command runs were lost ("Workflow task not found") and run
// again, batch and all, against none in three runs at 10 s. Continue-as-new
// sets it too, so accounts started with another carry this one from their
// next run on.
const AccountTaskTimeout = 10 * time.Second

// AccountWorkflowID is the workflow ID of a user's account.
func AccountWorkflowID(user string) string { return "account-" + user }

// TriggerWorkflowID is the ID of the workflow that watches one trigger.
func TriggerWorkflowID(user string, k trading.TriggerKey) string {
	return fmt.Sprintf("trigger-%s-%s-%s", user, k.Side, k.Symbol)
}

// DumpLogWorkflowID names the administrator's DUMPLOG of one transaction, so
// starting it twice for the same transaction runs it once.
func DumpLogWorkflowID(txNum int64) string { return fmt.Sprintf("dumplog-%d", txNum) }

// AccountInput starts an account workflow. State is nil on the very first
// start and carries everything across continue-as-new.
type AccountInput struct {
	User  string        `json:"user"`
	State *AccountState `json:"state,omitempty"`
}

// AccountState is what survives continue-as-new.
type AccountState struct {
	Account *trading.Account `json:"account"`
	// ChainID is the first run's ID: audit event keys are ChainID/EventSeq,
	// unique across continue-as-new and across a new workflow for the user.
	ChainID  string `json:"chainId"`
	EventSeq int64  `json:"eventSeq"`
	// RecentTxNums is the duplicate-detection window: a command whose
	// transaction number is in it has already been applied.
	RecentTxNums []int64 `json:"recentTxNums"`
	Processed    int64   `json:"processed"`
	// Watched are the triggers a Trigger workflow is running for, with the
	// price it watches.
	Watched []WatchedTrigger `json:"watched"`
	// Queue holds commands received but not yet processed at continue-as-new.
	Queue []trading.Command `json:"queue,omitempty"`
}

// WatchedTrigger is a running Trigger child workflow.
type WatchedTrigger struct {
	Key   trading.TriggerKey `json:"key"`
	Price decimal.Decimal    `json:"price"`
}

// Progress is the answer of QueryProgress.
type Progress struct {
	Processed int64 `json:"processed"`
	LastTxNum int64 `json:"lastTxNum"`
}

// TriggerHit is what a Trigger workflow reports: the quote at which its
// condition held. The account re-checks the condition before executing.
type TriggerHit struct {
	Key   trading.TriggerKey `json:"key"`
	Quote trading.Quote      `json:"quote"`
}

// TriggerInput starts the watcher of one buy or sell trigger.
type TriggerInput struct {
	User       string             `json:"user"`
	Key        trading.TriggerKey `json:"key"`
	Price      decimal.Decimal    `json:"price"`
	CheckEvery time.Duration      `json:"checkEvery"`
	// Checks counts price checks across continue-as-new (audit keys).
	Checks int64 `json:"checks,omitempty"`
}
