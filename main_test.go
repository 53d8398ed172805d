package main

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/committeebot/committeebot/chart"
)

func env(m map[string]string) []string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	return out
}

// demoGuard bounds a demo run against a hang; it is no measure. The
// demo seeds its bloc through the bot's own commands first, which on a
// machine loaded by the whole suite once took most of a minute.
const demoGuard = 3 * time.Minute

func TestDemoShowsHelpAndExitsCleanly(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), demoGuard)
	defer cancel()
	var out, errOut bytes.Buffer
	err := run(ctx, []string{"demo"}, env(nil), strings.NewReader("/help\n/status\n/lang en\n/help\n/quit\n"), &out, &errOut)
	if code := exitCode(err, &errOut); code != 0 {
		t.Fatalf("demo exited %d: %v\nstderr: %s", code, err, errOut.String())
	}
	got := out.String()
	// The answer to /lang en is headed in English already.
	for _, want := range []string{"Các lệnh bạn có thể dùng", "/lang", "🤖 bot → the group “Khối thi đua Nội chính”\n   ✅ This group will use English", "Commands you can use", "👥 Thư ký> /help",
		"Khối trưởng: TANDTC", "Khối phó: VKSNDTC", "8 đơn vị thành viên", "đã ký 4/8"} {
		if !strings.Contains(got, want) {
			t.Errorf("demo output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "<b>") {
		t.Errorf("demo output shows raw HTML:\n%s", got)
	}
}

func TestDemoButtonsArePressedByNumber(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), demoGuard)
	defer cancel()
	var out, errOut bytes.Buffer
	err := run(ctx, []string{"demo"}, env(nil), strings.NewReader("/chat private\n/lang\n2\n/chat private\n/as lan\n/help\n"), &out, &errOut)
	if err != nil {
		t.Fatalf("demo: %v\nstderr: %s", err, errOut.String())
	}
	got := out.String()
	// The demo names the message it pressed, follows the person's language
	// once they switch, and finds Lan typed without capitals.
	for _, want := range []string{"[1] Tiếng Việt", "[2] English", "👆 bấm [2] «English» trên tin nhắn «Chọn ngôn ngữ:»", "Switched to English",
		"You are Thư ký Khối, talking in a private chat", "Bạn đang là Lan Trần", "Các lệnh bạn có thể dùng"} {
		if !strings.Contains(got, want) {
			t.Errorf("demo output lacks %q:\n%s", want, got)
		}
	}
}

// A delegate votes in the demo from start to receipt (the demo runs on the
// embedded Redis, whose Lua differs from redis-server's in small ways: the
// cast script must run on both), and the group post's turnout moves.
func TestDemoVoteEndsWithAReceipt(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), demoGuard)
	defer cancel()
	var out, errOut bytes.Buffer
	err := run(ctx, []string{"demo"}, env(nil), strings.NewReader("/as 2\n/chat private\n/vote 1\n1\n9\n1\n/vote 1\n"), &out, &errOut)
	if err != nil {
		t.Fatalf("demo: %v\nstderr: %s", err, errOut.String())
	}
	got := out.String()
	for _, want := range []string{"Đã ghi nhận phiếu của TANDTC", "Mã biên nhận", "Đã bỏ phiếu: 1/8 đơn vị", "TANDTC đã bỏ phiếu rồi"} {
		if !strings.Contains(got, want) {
			t.Errorf("demo output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "Đã có lỗi") || strings.Contains(errOut.String(), "ERROR") {
		t.Errorf("the vote failed:\n%s\nstderr: %s", got, errOut.String())
	}
}

// The demo's bloc has a tied election to take to a second round (once),
// a nomination locked by its open ballot, and complete minutes.
func TestDemoShowsRunoffLockedNominationAndMinutes(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), demoGuard)
	defer cancel()
	var out, errOut bytes.Buffer
	err := run(ctx, []string{"demo"}, env(nil), strings.NewReader("/results 3\n/runoff 3\n/runoff 3\n/as Minh\n/withdraw 1\n/quit\n"), &out, &errOut)
	if code := exitCode(err, &errOut); code != 0 {
		t.Fatalf("demo exited %d: %v\nstderr: %s", code, err, errOut.String())
	}
	got := out.String()
	for _, want := range []string{"hoà giữa VKSNDTC, KTNN", "vòng 2 (/ballot 4)", "đã có vòng 2: /ballot 4", "Đề nghị số 1 đang được biểu quyết (/ballot 2)"} {
		if !strings.Contains(got, want) {
			t.Errorf("demo output lacks %q:\n%s", want, got)
		}
	}
	pdf := regexp.MustCompile(`\S*[/\\]bien-ban-kiem-phieu-\S+\.pdf`).FindString(got)
	if pdf == "" {
		t.Fatalf("the demo saved no minutes:\n%s", got)
	}
	text, err := exec.Command("pdftotext", "-enc", "UTF-8", pdf, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext %s: %v", pdf, err)
	}
	for _, want := range []string{"Nguyễn Hòa Bình", "Trần Thu Hà", "Lê Minh Trí, Phạm Thị Lan, Vũ Đức Tuấn", "Số phiếu phát ra", "KẾT LUẬN"} {
		if !strings.Contains(string(text), want) {
			t.Errorf("the demo's minutes lack %q:\n%s", want, text)
		}
	}
	// /results 3 also sent the result's chart, a photo the demo saved.
	photo := regexp.MustCompile(`\S*[/\\]photo-\S+\.png`).FindString(got)
	if photo == "" {
		t.Fatalf("the demo saved no chart:\n%s", got)
	}
	f, err := os.Open(photo)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if cfg, err := png.DecodeConfig(f); err != nil || cfg.Width != chart.Width {
		t.Errorf("the chart %s: %v, %d pixels wide", photo, err, cfg.Width)
	}
}

func TestExitCodes(t *testing.T) {
	t.Parallel()
	typoFile := filepath.Join(t.TempDir(), "committeebot.yaml")
	if err := os.WriteFile(typoFile, []byte("telegram:\n  pol_timeout: 20s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A Bot API that refuses every token, as Telegram does a revoked one.
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"ok":false,"error_code":401,"description":"Unauthorized"}`)
	}))
	defer refusing.Close()
	tests := []struct {
		name       string
		args       []string
		env        map[string]string
		wantCode   int
		wantStdout []string
		wantStderr []string
	}{
		{name: "version", args: []string{"version"}, wantStdout: []string{"committeebot ", "commit ", "built ", "go1."}},
		{
			name:     "unknown variable",
			args:     []string{"check-config"},
			env:      map[string]string{"COMMITTEEBOT_LOG_LEVELL": "debug"},
			wantCode: 2, wantStderr: []string{"COMMITTEEBOT_LOG_LEVELL", "COMMITTEEBOT_LOG_LEVEL"},
		},
		{
			name:     "unknown key in the file named by COMMITTEEBOT_CONFIG",
			args:     []string{"check-config"},
			env:      map[string]string{"COMMITTEEBOT_CONFIG": typoFile},
			wantCode: 2, wantStderr: []string{"telegram.pol_timeout", "telegram.poll_timeout"},
		},
		{
			name: "check-config checks what serve needs", args: []string{"check-config"},
			wantCode: 2, wantStderr: []string{"telegram.token", "voting.seal_key"},
		},
		{name: "check-config without secrets", args: []string{"check-config", "--without-secrets"}, wantStdout: []string{"telegram:", "redis:"}},
		{
			name: "check-config masks secrets",
			args: []string{"check-config"},
			env: map[string]string{
				"COMMITTEEBOT_TELEGRAM_TOKEN": "123456:SECRETSECRETSECRET", "COMMITTEEBOT_VOTING_SEAL_KEY": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
			},
			wantStdout: []string{"****"},
		},
		{
			name:     "every bad key listed",
			args:     []string{"check-config"},
			env:      map[string]string{"COMMITTEEBOT_TELEGRAM_MODE": "carrier-pigeon", "COMMITTEEBOT_BOT_TIMEZONE": "Mars/Olympus", "COMMITTEEBOT_REMINDERS_TICK": "soon"},
			wantCode: 2, wantStderr: []string{"telegram.mode", "bot.timezone", "reminders.tick"},
		},
		{name: "serve without token", args: []string{"serve"}, wantCode: 2, wantStderr: []string{"telegram.token"}},
		{
			name: "token refused by Telegram", args: []string{"serve"},
			env: map[string]string{
				"COMMITTEEBOT_TELEGRAM_TOKEN": "123456:SECRETSECRETSECRET", "COMMITTEEBOT_VOTING_SEAL_KEY": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
				"COMMITTEEBOT_TELEGRAM_API_ENDPOINT": refusing.URL + "/bot%s/%s", "COMMITTEEBOT_REDIS_URL": "redis://127.0.0.1:1/0",
				"COMMITTEEBOT_HTTP_LISTEN": "127.0.0.1:0",
			},
			wantCode: 2, wantStderr: []string{"rejected the bot token"},
		},
		{name: "unknown sub-command", args: []string{"fly"}, wantCode: 2, wantStderr: []string{"unknown command"}},
		{name: "missing config file", args: []string{"check-config", "--config", "/nonexistent.yaml"}, wantCode: 2, wantStderr: []string{"--config"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), tt.args, env(tt.env), strings.NewReader(""), &out, &errOut)
			code := exitCode(err, &errOut)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d (err %v)", code, tt.wantCode, err)
			}
			for _, w := range tt.wantStdout {
				if !strings.Contains(out.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, out.String())
				}
			}
			for _, w := range tt.wantStderr {
				if !strings.Contains(errOut.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut.String())
				}
			}
			if strings.Contains(out.String()+errOut.String(), "SECRETSECRETSECRET") {
				t.Error("a secret was printed")
			}
		})
	}
}
