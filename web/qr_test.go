package web

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// zbarimg is ZBar's decoder (scripts/testenv.sh --full install puts it
// there): an independent reader of the QR codes the screens show.
const zbarimg = "/usr/bin/zbarimg"

var (
	qrViewBox = regexp.MustCompile(`viewBox="0 0 (\d+) (\d+)"`)
	qrRun     = regexp.MustCompile(`M(\d+) (\d+)h(\d+)v1h-(\d+)z`)
)

// rasterize draws the SVG qrSVG made as a PNG, 8 pixels a module.
func rasterize(t *testing.T, svg string) string {
	t.Helper()
	m := qrViewBox.FindStringSubmatch(svg)
	if m == nil {
		t.Fatalf("no viewBox in %q", svg)
	}
	n, _ := strconv.Atoi(m[1])
	const scale = 8
	img := image.NewGray(image.Rect(0, 0, n*scale, n*scale))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	for _, r := range qrRun.FindAllStringSubmatch(svg, -1) {
		x, _ := strconv.Atoi(r[1])
		y, _ := strconv.Atoi(r[2])
		run, _ := strconv.Atoi(r[3])
		for px := x * scale; px < (x+run)*scale; px++ {
			for py := y * scale; py < (y+1)*scale; py++ {
				img.Set(px, py, color.Gray{})
			}
		}
	}
	path := filepath.Join(t.TempDir(), "qr.png")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestQRCodesScan: what a phone's camera reads from a screen's QR codes
// is the address, as ZBar decodes them; "" draws nothing.
func TestQRCodesScan(t *testing.T) {
	if _, err := os.Stat(zbarimg); err != nil {
		msg := zbarimg + " is missing: scripts/testenv.sh --full install installs it (zbar-tools)"
		if os.Getenv("HALLWAY_REQUIRE_TESTENV") == "1" && os.Getenv("HALLWAY_TEST_FULL") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if qrSVG("", "x") != "" {
		t.Error("an empty address drew a QR code")
	}
	for _, url := range []string{
		"https://hallway.example.org/openinfra-day-2027/session/6",
		"https://hallway.example.org/openinfra-day-2027/room/Room%20106.ics",
		"https://events.example.org/hw/fosdem-2027/room/K.1.105%20%28La%20Fontaine%29.ics",
	} {
		svg := string(qrSVG(url, "QR code"))
		if !strings.HasPrefix(svg, `<svg class="qr" role="img" aria-label="QR code"`) {
			t.Fatalf("%s: %q", url, svg)
		}
		// Its stderr has D-Bus complaints on a machine without one.
		out, err := exec.Command(zbarimg, "--quiet", "--raw", rasterize(t, svg)).Output()
		if err != nil {
			t.Fatalf("zbarimg: %v", err)
		}
		if got := strings.TrimSpace(string(out)); got != url {
			t.Errorf("scanned %q, want %q", got, url)
		}
	}
}
