// The end-to-end tests of package app: what the bot does for its users,
// feature by feature (committee_test.go, meetings*_test.go,
// nominations*_test.go, ballots_test.go, chart_test.go, minutes_test.go,
// export_test.go…), through the real bot on the stand-in (package
// apptest). The tests of the process — starting, stopping, crashing,
// replicas, Redis topologies — are in app/lifecycle.
package app_test

import (
	"testing"

	"github.com/committeebot/committeebot/app/apptest"
)

func TestMain(m *testing.M) { apptest.Main(m) }
