package app_test

import (
	"testing"

	"github.com/committeebot/committeebot/app/apptest"
)

func TestMain(m *testing.M) { apptest.Main(m) }
