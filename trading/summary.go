package trading

import (
	"time"

	"github.com/shopspring/decimal"
)

// Result is what a trader is told about one command: whether it succeeded,
// a message a person can read, and for QUOTE the price.
type Result struct {
	TxNum   int64               `json:"txNum"`
	Command CommandName         `json:"command"`
	OK      bool                `json:"ok"`
	Message string              `json:"message"`
	Quote   *Quote              `json:"quote,omitempty"`
	Summary *Summary            `json:"summary,omitempty"` // DISPLAY_SUMMARY
	Funds   decimal.NullDecimal `json:"funds"`
}

// Summary is DISPLAY_SUMMARY as structured data: what the trader holds, what
// is pending and for how long, their orders and triggers, and recent activity.
type Summary struct {
	User         string          `json:"user"`
	Exists       bool            `json:"exists"`
	AsOf         time.Time       `json:"asOf"`
	Cash         decimal.Decimal `json:"cash"`
	ReservedCash decimal.Decimal `json:"reservedCash"`
	Holdings     []Holding       `json:"holdings"`
	PendingBuys  []PendingView   `json:"pendingBuys"`
	PendingSells []PendingView   `json:"pendingSells"`
	BuyOrders    []BuyOrderView  `json:"buyOrders"`
	SellOrders   []SellOrderView `json:"sellOrders"`
	Recent       []RecentCommand `json:"recent"`
	// Profit and loss over every holding: CostBasis and RealizedPL always,
	// MarketValue and UnrealizedPL only when every holding has a last price
	// (a total that silently leaves a holding out would mislead).
	CostBasis    decimal.Decimal     `json:"costBasis"`
	MarketValue  decimal.NullDecimal `json:"marketValue"`
	UnrealizedPL decimal.NullDecimal `json:"unrealizedPL"`
	RealizedPL   decimal.Decimal     `json:"realizedPL"`
}

// Holding is the free shares of one symbol, with the last price this account
// saw for it (no quote is fetched just to show a summary: hits are billed).
type Holding struct {
	Symbol         string              `json:"symbol"`
	Shares         int64               `json:"shares"`
	ReservedShares int64               `json:"reservedShares"`
	LastPrice      decimal.NullDecimal `json:"lastPrice"`
	LastPriceAt    time.Time           `json:"lastPriceAt"`
	// CostBasis is what the shares (free and reserved) cost, AvgCost that per
	// share. MarketValue is the shares at the last price and UnrealizedPL
	// its difference to the cost, in dollars and in percent of the cost; the
	// three are null without a last price (the percentage also at zero cost).
	CostBasis     decimal.Decimal     `json:"costBasis"`
	AvgCost       decimal.Decimal     `json:"avgCost"`
	MarketValue   decimal.NullDecimal `json:"marketValue"`
	UnrealizedPL  decimal.NullDecimal `json:"unrealizedPL"`
	UnrealizedPct decimal.NullDecimal `json:"unrealizedPct"`
}

// PendingView is a pending BUY or SELL waiting for its COMMIT or CANCEL.
type PendingView struct {
	Symbol    string          `json:"symbol"`
	Shares    int64           `json:"shares"`
	Price     decimal.Decimal `json:"price"`
	Total     decimal.Decimal `json:"total"`
	CreatedAt time.Time       `json:"createdAt"`
	ExpiresAt time.Time       `json:"expiresAt"`
	TxNum     int64           `json:"txNum"`
}

// BuyOrderView is an automatic buy: cash reserved for a symbol, with an
// optional trigger price at or below which it buys.
type BuyOrderView struct {
	Symbol  string              `json:"symbol"`
	Reserve decimal.Decimal     `json:"reserve"`
	Trigger decimal.NullDecimal `json:"trigger"`
}

// SellOrderView is an automatic sell: a dollar amount of a symbol, with an
// optional trigger price at or above which it sells its reserved shares.
type SellOrderView struct {
	Symbol         string              `json:"symbol"`
	Amount         decimal.Decimal     `json:"amount"`
	Trigger        decimal.NullDecimal `json:"trigger"`
	ReservedShares int64               `json:"reservedShares"`
}

// RecentCommand is one line of the account's recent activity.
type RecentCommand struct {
	TxNum   int64       `json:"txNum"`
	Command CommandName `json:"command"`
	OK      bool        `json:"ok"`
	Message string      `json:"message"`
	At      time.Time   `json:"at"`
}
