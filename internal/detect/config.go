// Package detect turns console sign-in events into incidents. It is pure:
// time comes only from the events (every window uses eventTime), and all
// memory lives behind the State interface, so the same engine runs over a
// replayed file, a live queue, or a test's table.
package detect

import (
	"errors"
	"fmt"
	"time"
)

// Config holds the detection thresholds. The zero value is not valid; start
// from DefaultConfig.
type Config struct {
	// TokenExpiryWindow: a successful MFA sign-in this long before a
	// failure makes token expiry likely.
	TokenExpiryWindow time.Duration `yaml:"token_expiry_window"`
	// RepeatedCount failures within RepeatedWindow are repeated failures.
	RepeatedCount  int           `yaml:"repeated_count"`
	RepeatedWindow time.Duration `yaml:"repeated_window"`
	// BruteForceCount failures, or failures from BruteForceIPs source
	// addresses, within BruteForceWindow are a brute force.
	BruteForceCount  int           `yaml:"brute_force_count"`
	BruteForceIPs    int           `yaml:"brute_force_ips"`
	BruteForceWindow time.Duration `yaml:"brute_force_window"`
	// SprayUsers distinct user names failing from one source address
	// within SprayWindow are a password spray.
	SprayUsers  int           `yaml:"spray_users"`
	SprayWindow time.Duration `yaml:"spray_window"`
	// GroupGap: failures of one subject closer than this belong to one
	// incident.
	GroupGap time.Duration `yaml:"group_gap"`
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{
		TokenExpiryWindow: 15 * time.Minute,
		RepeatedCount:     3,
		RepeatedWindow:    5 * time.Minute,
		BruteForceCount:   10,
		BruteForceIPs:     3,
		BruteForceWindow:  10 * time.Minute,
		SprayUsers:        5,
		SprayWindow:       10 * time.Minute,
		GroupGap:          30 * time.Minute,
	}
}

// ErrConfig is wrapped by every configuration error.
var ErrConfig = errors.New("invalid detection config")

// Validate reports every problem in the configuration at once, naming each
// key.
func (c Config) Validate() error {
	var errs []error
	durations := []struct {
		key string
		v   time.Duration
	}{
		{"token_expiry_window", c.TokenExpiryWindow},
		{"repeated_window", c.RepeatedWindow},
		{"brute_force_window", c.BruteForceWindow},
		{"spray_window", c.SprayWindow},
		{"group_gap", c.GroupGap},
	}
	for _, d := range durations {
		if d.v <= 0 {
			errs = append(errs, fmt.Errorf("%w: %s must be positive, got %v", ErrConfig, d.key, d.v))
		}
	}
	counts := []struct {
		key string
		v   int
		min int
	}{
		{"repeated_count", c.RepeatedCount, 2},
		{"brute_force_count", c.BruteForceCount, 2},
		{"brute_force_ips", c.BruteForceIPs, 2},
		{"spray_users", c.SprayUsers, 2},
	}
	for _, n := range counts {
		if n.v < n.min {
			errs = append(errs, fmt.Errorf("%w: %s must be at least %d, got %d", ErrConfig, n.key, n.min, n.v))
		}
	}
	if c.BruteForceCount > 0 && c.RepeatedCount >= c.BruteForceCount {
		errs = append(errs, fmt.Errorf("%w: repeated_count (%d) must be below brute_force_count (%d)", ErrConfig, c.RepeatedCount, c.BruteForceCount))
	}
	return errors.Join(errs...)
}

// recentCap is how many recent failures an incident must keep for the
// windowed thresholds.
func (c Config) recentCap() int { return max(c.BruteForceCount, c.RepeatedCount, c.BruteForceIPs) }
