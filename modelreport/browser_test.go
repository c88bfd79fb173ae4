package modelreport

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// chromiumPath is Debian's chromium (apt-get install chromium).
const chromiumPath = "/usr/bin/chromium"

// needChromium returns the browser, skipping the test when it is not installed. Under CI it
// fails instead, because scripts/test installs chromium there; only when that install itself
// failed does scripts/test set VENTRAL_NO_BROWSER (and say so), and the test skips.
func needChromium(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" && os.Getenv("VENTRAL_NO_BROWSER") == "" {
			t.Fatalf("%s not found: install Debian's chromium package (apt-get install -y chromium)", chromiumPath)
		}
		t.Skipf("%s not found (apt-get install -y chromium)", chromiumPath)
	}
	return chromiumPath
}

// pageCheck is what the browser saw of a page.
type pageCheck struct {
	Title    string   `json:"title"`
	Headings []string `json:"headings"`
	Images   []struct {
		Src      string `json:"src"`
		Complete bool   `json:"complete"`
		Width    int    `json:"width"`
	} `json:"images"`
	Scripts int `json:"scripts"`
	// Errors are console messages of level error or warning, uncaught exceptions and failed
	// loads (e.g. a missing image), as the DevTools protocol reported them.
	Errors []string `json:"-"`
}

const inspect = `JSON.stringify({
  title: document.title,
  headings: Array.from(document.querySelectorAll("h1,h2")).map(h => h.textContent),
  images: Array.from(document.images).map(i => ({src: i.getAttribute("src"), complete: i.complete, width: i.naturalWidth})),
  scripts: document.scripts.length
})`

// cdp speaks the Chrome DevTools protocol over --remote-debugging-pipe: JSON messages
// separated by NUL bytes, commands on the browser's fd 3, replies and events on its fd 4.
type cdp struct {
	w      *os.File
	r      *bufio.Reader
	id     int
	events []map[string]any
}

func (c *cdp) call(session, method string, params map[string]any) (map[string]any, error) {
	c.id++
	msg := map[string]any{"id": c.id, "method": method, "params": params}
	if session != "" {
		msg["sessionId"] = session
	}
	b, err := json.Marshal(msg)
	if err != nil {
		return nil, err
	}
	if _, err := c.w.Write(append(b, 0)); err != nil {
		return nil, err
	}
	for {
		m, err := c.next()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", method, err)
		}
		if id, ok := m["id"].(float64); ok && int(id) == c.id {
			if e, ok := m["error"]; ok {
				return nil, fmt.Errorf("%s: %v", method, e)
			}
			res, _ := m["result"].(map[string]any)
			return res, nil
		}
	}
}

// next reads one message; events are kept.
func (c *cdp) next() (map[string]any, error) {
	b, err := c.r.ReadBytes(0)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b[:len(b)-1], &m); err != nil {
		return nil, err
	}
	if _, ok := m["method"]; ok {
		c.events = append(c.events, m)
	}
	return m, nil
}

// waitEvent reads until an event named method has arrived (or one already has).
func (c *cdp) waitEvent(method string) error {
	for _, e := range c.events {
		if e["method"] == method {
			return nil
		}
	}
	for {
		m, err := c.next()
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", method, err)
		}
		if m["method"] == method {
			return nil
		}
	}
}

// problems lists console errors and warnings, exceptions and failed loads among the events.
func (c *cdp) problems() []string {
	var out []string
	for _, e := range c.events {
		p, _ := e["params"].(map[string]any)
		switch e["method"] {
		case "Runtime.consoleAPICalled":
			if typ, _ := p["type"].(string); typ == "error" || typ == "warning" || typ == "assert" {
				b, _ := json.Marshal(p["args"])
				out = append(out, "console "+typ+": "+string(b))
			}
		case "Runtime.exceptionThrown":
			b, _ := json.Marshal(p["exceptionDetails"])
			out = append(out, "exception: "+string(b))
		case "Log.entryAdded":
			entry, _ := p["entry"].(map[string]any)
			if lvl, _ := entry["level"].(string); lvl == "error" || lvl == "warning" {
				out = append(out, fmt.Sprintf("log %s (%v): %v %v", lvl, entry["source"], entry["text"], entry["url"]))
			}
		case "Network.loadingFailed":
			out = append(out, fmt.Sprintf("load failed: %v %v", p["errorText"], p["requestId"]))
		}
	}
	return out
}

// openInBrowser loads a file:// page in headless chromium, waits for its load event and
// returns what the page holds and every console error, exception and failed load. The browser
// is killed before it returns.
func openInBrowser(t *testing.T, page string) *pageCheck {
	t.Helper()
	bin := needChromium(t)
	abs, err := filepath.Abs(page)
	if err != nil {
		t.Fatal(err)
	}
	toBrowser, cmdW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	fromBrowser, browserW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
		"--user-data-dir="+t.TempDir(), "--remote-debugging-pipe", "about:blank")
	cmd.ExtraFiles = []*os.File{toBrowser, browserW} // fd 3: commands, fd 4: replies
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	toBrowser.Close()
	browserW.Close()
	done := make(chan struct{})
	defer func() {
		cmdW.Close()
		cmd.Process.Kill()
		cmd.Wait()
		fromBrowser.Close()
		close(done)
	}()
	go func() { // a hung browser must not hang the test
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			cmd.Process.Kill()
		}
	}()
	c := &cdp{w: cmdW, r: bufio.NewReader(fromBrowser)}
	fail := func(err error) {
		t.Helper()
		t.Fatalf("chromium: %v\nstderr (tail): %s", err, tail(stderr.String(), 2000))
	}
	tgt, err := c.call("", "Target.createTarget", map[string]any{"url": "about:blank"})
	if err != nil {
		fail(err)
	}
	att, err := c.call("", "Target.attachToTarget", map[string]any{"targetId": tgt["targetId"], "flatten": true})
	if err != nil {
		fail(err)
	}
	s, _ := att["sessionId"].(string)
	for _, m := range []string{"Page.enable", "Runtime.enable", "Log.enable", "Network.enable"} {
		if _, err := c.call(s, m, map[string]any{}); err != nil {
			fail(err)
		}
	}
	u := (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()
	nav, err := c.call(s, "Page.navigate", map[string]any{"url": u})
	if err != nil {
		fail(err)
	}
	if e, ok := nav["errorText"].(string); ok && e != "" {
		fail(fmt.Errorf("navigating to %s: %s", u, e))
	}
	if err := c.waitEvent("Page.loadEventFired"); err != nil {
		fail(err)
	}
	ev, err := c.call(s, "Runtime.evaluate", map[string]any{"expression": inspect, "returnByValue": true})
	if err != nil {
		fail(err)
	}
	res, _ := ev["result"].(map[string]any)
	str, _ := res["value"].(string)
	var pc pageCheck
	if err := json.Unmarshal([]byte(str), &pc); err != nil {
		fail(fmt.Errorf("page inspection %q: %v", str, err))
	}
	pc.Errors = c.problems()
	c.call("", "Browser.close", map[string]any{})
	return &pc
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// A page with a missing image, a broken image and a console error: the browser check must see
// all three, so a passing report check means something.
func TestBrowserCheckSeesErrors(t *testing.T) {
	needChromium(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "p.html")
	if err := os.WriteFile(filepath.Join(dir, "bad.png"), []byte("not a png"), 0o644); err != nil {
		t.Fatal(err)
	}
	html := `<!DOCTYPE html><html><head><title>t</title></head><body><h1>x</h1><img src="missing.png"><img src="bad.png"><script>console.error("boom")</script></body></html>`
	if err := os.WriteFile(page, []byte(html), 0o644); err != nil {
		t.Fatal(err)
	}
	pc := openInBrowser(t, page)
	if pc.Title != "t" || len(pc.Images) != 2 || pc.Scripts != 1 {
		t.Fatalf("page %+v", pc)
	}
	for _, im := range pc.Images {
		if im.Width != 0 {
			t.Errorf("image %s decoded (width %d)", im.Src, im.Width)
		}
	}
	all := strings.Join(pc.Errors, "\n")
	if !strings.Contains(all, "boom") || !strings.Contains(all, "missing.png") {
		t.Errorf("errors seen: %s", all)
	}
}
