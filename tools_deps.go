//go:build tools

package main

import (
	_ "github.com/alicebob/miniredis/v2"
	_ "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	_ "github.com/google/go-cmp/cmp"
	_ "github.com/nicksnyder/go-i18n/v2/i18n"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "github.com/redis/go-redis/v9"
	_ "github.com/spf13/cobra"
	_ "github.com/spf13/viper"
	_ "golang.org/x/text/language"
	_ "golang.org/x/time/rate"
)

func main() {}
