package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"

	"github.com/committeebot/committeebot/app"
	"github.com/committeebot/committeebot/buildinfo"
	"github.com/committeebot/committeebot/config"
	"github.com/committeebot/committeebot/demo"
	"github.com/committeebot/committeebot/loadtest"
	"github.com/committeebot/committeebot/storage"
)

// usageError is a bad command line; it exits with status 2 like a bad
// configuration.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// run is the whole program: it parses args, loads the configuration (from
// the file and environ, the process environment as os.Environ gives it)
// and runs the chosen sub-command until ctx ends.
func run(ctx context.Context, args []string, environ []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var cfgPath string
	load := func(command string) (*config.Config, error) {
		cfg, err := config.LoadEnviron(cfgPath, environ)
		if err != nil {
			return nil, err
		}
		if err := cfg.Validate(command); err != nil {
			return nil, err
		}
		return cfg, nil
	}
	serve := func(cmd *cobra.Command, _ []string) error {
		cfg, err := load(config.CommandServe)
		if err != nil {
			return err
		}
		log := cfg.Logger(stderr)
		storage.SetRedisLogger(log)
		bi := buildinfo.Get()
		log.Info("starting committeebot", "version", bi.Version, "commit", bi.Commit, "built", bi.Date, "mode", cfg.Telegram.Mode)
		a, err := app.New(cfg, log)
		if err != nil {
			return err
		}
		err = a.Run(cmd.Context())
		log.Info("committeebot stopped")
		return err
	}

	root := &cobra.Command{
		Use:           "committeebot",
		Short:         "Telegram bot for an emulation bloc: votes, meetings, nominations",
		Args:          cobra.NoArgs,
		RunE:          serve,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&cfgPath, "config", "", "YAML configuration file (default: $COMMITTEEBOT_CONFIG; environment variables COMMITTEEBOT_* override it)")
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })

	root.AddCommand(&cobra.Command{
		Use:   "serve",
		Short: "Run the bot (long polling or webhook)",
		Args:  cobra.NoArgs,
		RunE:  serve,
	})
	root.AddCommand(&cobra.Command{
		Use:   "demo",
		Short: "Try the bot offline: embedded Redis, Telegram stand-in, terminal chat",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := load(config.CommandDemo)
			if err != nil {
				return err
			}
			return demo.Run(cmd.Context(), cfg, stdin, stdout, stderr)
		},
	})
	var withoutSecrets bool
	checkCmd := &cobra.Command{
		Use:   "check-config",
		Short: "Validate the configuration as serve would and print it with secrets masked",
		Args:  cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			command := config.CommandServe
			if withoutSecrets {
				command = config.CommandCheck
			}
			cfg, err := load(command)
			if err != nil {
				return err
			}
			return cfg.Print(stdout)
		},
	}
	checkCmd.Flags().BoolVar(&withoutSecrets, "without-secrets", false, "check everything but the presence of the token and the seal key (for a pipeline where the secrets are not)")
	root.AddCommand(checkCmd)
	root.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(stdout, "committeebot %s\n", buildinfo.Get())
			return err
		},
	})

	bench := loadtest.Defaults
	var scenarios string
	benchCmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure the bot: a real redis-server, the Telegram stand-in with its limits, the binary in webhook mode",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			bench.Scenarios = strings.Split(scenarios, ",")
			if err := bench.Validate(); err != nil {
				return usageError{err}
			}
			bench.Out = stdout
			bench.Log = slog.New(slog.NewTextHandler(stderr, nil))
			_, err := loadtest.Run(cmd.Context(), bench)
			return err
		},
	}
	bf := benchCmd.Flags()
	bf.StringVar(&scenarios, "scenario", loadtest.ScenarioAll, "burst, sustained, limits, reference or all (comma-separated)")
	bf.DurationVar(&bench.Duration, "duration", bench.Duration, "how long the sustained load runs (the reference runs half of it, at most 5s)")
	bf.IntVar(&bench.Voters, "voters", bench.Voters, "voters of the burst")
	bf.IntVar(&bench.Committees, "committees", bench.Committees, "committees of the burst")
	bf.StringVar(&bench.Binary, "binary", "", "committeebot binary to measure (default: built at the module root as releases are)")
	bf.IntVar(&bench.SustainedVoters, "sustained-voters", bench.SustainedVoters, "voters of the sustained load, each voting in every ballot")
	bf.IntVar(&bench.FanOut, "fanout", bench.FanOut, "delegates reminded in the limits scenario")
	bf.IntVar(&bench.Replicas, "replicas", bench.Replicas, "replicas in the limits scenario")
	bf.IntVar(&bench.Restarts, "restarts", bench.Restarts, "restarts of the sending replica during the fan-out (SIGKILL, then SIGTERM, alternating)")
	root.AddCommand(benchCmd)

	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		if isUsage(err) {
			return usageError{err}
		}
		return err
	}
	return nil
}

// isUsage tells cobra's command-line errors (unknown command or flag) from
// errors of the sub-commands themselves.
func isUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "accepts ", "flag needs an argument", "invalid argument"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}
