// Command committeebot is a Telegram bot for the members of a committee —
// an emulation bloc of ministries and courts: votes in chat, reminders
// before conferences and quick status questions, with all state in Redis.
//
// Usage:
//
//	committeebot [serve]        run the bot (default)
//	committeebot demo           try it offline in the terminal
//	committeebot check-config   validate and print the configuration
//	committeebot version        print the version
//	committeebot bench          measure votes and sending under load (docs/PERFORMANCE.md)
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/committeebot/committeebot/bot"
	"github.com/committeebot/committeebot/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Environ(), os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// exitCode reports err on stderr and maps it to the exit status: 0 for a
// clean run, 2 for an invalid configuration (every problem on its own
// line) or a token Telegram refuses, 1 for anything else.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var verr *config.ValidationError
	if errors.As(err, &verr) {
		fmt.Fprintln(stderr, "committeebot: invalid configuration:")
		for _, p := range verr.Problems {
			fmt.Fprintf(stderr, "  %s\n", p.Error())
		}
		return 2
	}
	var uerr usageError
	if errors.As(err, &uerr) || errors.Is(err, bot.ErrTokenRejected) {
		// A token Telegram refuses is configuration too: restarting
		// cannot fix it (systemd's RestartPreventExitStatus=2).
		fmt.Fprintf(stderr, "committeebot: %v\n", err)
		return 2
	}
	fmt.Fprintf(stderr, "committeebot: %v\n", err)
	return 1
}
