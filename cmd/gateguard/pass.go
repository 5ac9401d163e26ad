package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/skip2/go-qrcode"

	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/credential"
	"github.com/gateguard/gateguard/vision"
	"github.com/gateguard/gateguard/vision/qr"
)

const passUsage = `usage:
  gateguard pass keygen -key FILE -pub FILE
      make an Ed25519 signing key (written mode 0600) and its public key
  gateguard pass issue -key FILE -holder ID [-id ID] [-category employee|visitor|…] [-issuer SITE]
        [-gates g1,g2] [-from TIME] (-until TIME | -valid DURATION) [-png FILE [-size PIXELS]]
      sign a pass; print its QR text and, with -png, write the QR code as a PNG
  gateguard pass verify -pub FILE[,FILE] [-gate ID] [-revoked FILE] (TEXT | -png FILE)
      check a pass as a gate would; print the verdict as JSON (exit 1 unless green)
  gateguard pass revoke -list FILE -id ID [-reason TEXT]
      add a pass to a revocation list (written atomically; running gates re-read it)`

// cmdPass runs the pass subcommands.
func cmdPass(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		return usageError{passUsage}
	}
	switch args[0] {
	case "keygen":
		return passKeygen(args[1:], out)
	case "issue":
		return passIssue(args[1:], out)
	case "verify":
		return passVerify(ctx, args[1:], out)
	case "revoke":
		return passRevoke(args[1:], out)
	}
	return usageError{fmt.Sprintf("pass: unknown command %q\n%s", args[0], passUsage)}
}

// keygenBeforeWrite runs between pass keygen's existence check and its
// writes; tests use it to create a key in that window.
var keygenBeforeWrite = func() {}

func passKeygen(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("pass keygen", flag.ContinueOnError)
	keyPath := fs.String("key", "", "private key file to write (mode 0600)")
	pubPath := fs.String("pub", "", "public key file to write")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *keyPath == "" || *pubPath == "" || fs.NArg() > 0 {
		return usageError{"pass keygen: want -key FILE -pub FILE"}
	}
	for _, p := range []string{*keyPath, *pubPath} {
		if _, err := os.Stat(p); err == nil {
			return fmt.Errorf("pass keygen: %s exists; not overwriting a key", p)
		}
	}
	pub, key, err := credential.GenerateKey()
	if err != nil {
		return fmt.Errorf("pass keygen: %w", err)
	}
	kb, err := credential.MarshalPrivateKey(key)
	if err != nil {
		return fmt.Errorf("pass keygen: %w", err)
	}
	pb, err := credential.MarshalPublicKey(pub)
	if err != nil {
		return fmt.Errorf("pass keygen: %w", err)
	}
	keygenBeforeWrite()
	// Create-new, never replace: a key made by someone else since the check
	// above (a second keygen, a restore) survives, and this run fails.
	if err := credential.WriteFileNew(*keyPath, kb, 0o600); err != nil {
		return fmt.Errorf("pass keygen: private key: %w", err)
	}
	if err := credential.WriteFileNew(*pubPath, pb, 0o644); err != nil {
		os.Remove(*keyPath) // ours, just made: no half pair left behind
		return fmt.Errorf("pass keygen: public key: %w", err)
	}
	fmt.Fprintf(out, "key id %s: private key %s (keep it off the gates), public key %s (credentials.site_pass.public_keys)\n",
		credential.KIDString(credential.KeyID(pub)), *keyPath, *pubPath)
	return nil
}

func passIssue(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("pass issue", flag.ContinueOnError)
	keyPath := fs.String("key", "", "private key file (mode 0600)")
	holder := fs.String("holder", "", "holder id (employee or visitor number)")
	id := fs.String("id", "", "pass id (default: random)")
	category := fs.String("category", "", "employee, visitor, contractor, …")
	issuer := fs.String("issuer", "", "issuing site")
	gates := fs.String("gates", "", "comma-separated gate ids the pass opens (default: every gate)")
	from := fs.String("from", "", "start of validity, RFC 3339 (default: now)")
	until := fs.String("until", "", "end of validity, RFC 3339")
	valid := fs.Duration("valid", 0, "validity from the start, e.g. 8h (instead of -until)")
	pngPath := fs.String("png", "", "write the QR code to this PNG file")
	size := fs.Int("size", 512, "PNG size in pixels")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *keyPath == "" || *holder == "" || fs.NArg() > 0 || (*until == "") == (*valid == 0) {
		return usageError{"pass issue: want -key FILE -holder ID and one of -until TIME or -valid DURATION"}
	}
	key, err := credential.LoadPrivateKey(*keyPath)
	if err != nil {
		return err
	}
	now := time.Now().Truncate(time.Second)
	p := credential.Pass{ID: *id, Holder: *holder, Category: *category, Issuer: *issuer, NotBefore: now, IssuedAt: now}
	if p.ID == "" {
		p.ID = credential.NewPassID()
	}
	if err := passValidity(&p, *from, *until, *valid); err != nil {
		return err
	}
	if p.Gates, err = passGates(*gates); err != nil {
		return err
	}
	text, err := credential.IssuePass(p, key)
	if err != nil {
		return fmt.Errorf("pass issue: %w", err)
	}
	if *pngPath != "" {
		if err := writePassPNG(*pngPath, text, *size); err != nil {
			return err
		}
	}
	fmt.Fprintln(out, text)
	return nil
}

// passValidity sets p's validity from the -from, -until and -valid flags;
// p.NotBefore is already now.
func passValidity(p *credential.Pass, from, until string, valid time.Duration) error {
	var err error
	if from != "" {
		if p.NotBefore, err = time.Parse(time.RFC3339, from); err != nil {
			return usageError{fmt.Sprintf("pass issue: -from: %v", err)}
		}
	}
	if until != "" {
		if p.NotAfter, err = time.Parse(time.RFC3339, until); err != nil {
			return usageError{fmt.Sprintf("pass issue: -until: %v", err)}
		}
	} else {
		p.NotAfter = p.NotBefore.Add(valid)
	}
	return nil
}

// passGates parses -gates: nil for every gate.
func passGates(gates string) ([]string, error) {
	if gates == "" {
		return nil, nil
	}
	// "lane-1, lane-2" must open lane-2, not a gate named " lane-2".
	var out []string
	for _, g := range strings.Split(gates, ",") {
		if g = strings.TrimSpace(g); g != "" {
			out = append(out, g)
		}
	}
	if len(out) == 0 {
		return nil, usageError{fmt.Sprintf("pass issue: -gates %q names no gate", gates)}
	}
	return out, nil
}

// writePassPNG writes text as a QR code of size pixels to path, atomically.
func writePassPNG(path, text string, size int) error {
	if size < 64 || size > 4096 {
		return usageError{"pass issue: -size must be 64–4096"}
	}
	png, err := qrcode.Encode(text, qrcode.Medium, size)
	if err != nil {
		return fmt.Errorf("pass issue: qr: %w", err)
	}
	if err := credential.WriteFileAtomic(path, png, 0o644); err != nil {
		return fmt.Errorf("pass issue: %w", err)
	}
	return nil
}

// errNotGreen is returned by pass verify for a pass a gate would refuse.
var errNotGreen = errors.New("pass is not green")

func passVerify(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("pass verify", flag.ContinueOnError)
	pubs := fs.String("pub", "", "comma-separated public key files")
	gateID := fs.String("gate", "", "gate id to check the pass's gate list against")
	revoked := fs.String("revoked", "", "revocation list file")
	pngPath := fs.String("png", "", "read the pass from a QR code picture (PNG, JPEG)")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *pubs == "" || (fs.NArg() == 1) == (*pngPath != "") || fs.NArg() > 1 {
		return usageError{"pass verify: want -pub FILE and either TEXT or -png FILE"}
	}
	keys, err := credential.LoadPassKeys(strings.Split(*pubs, ",")...)
	if err != nil {
		return err
	}
	v := &credential.PassVerifier{Keys: keys, Gate: *gateID, Skew: time.Minute}
	if *revoked != "" {
		// A gate treats a missing list as nothing revoked yet; here a
		// mistyped -revoked would report a revoked pass green.
		if _, err := os.Stat(*revoked); err != nil {
			return fmt.Errorf("pass verify: -revoked: %w", err)
		}
		if v.Revoked, err = credential.OpenRevocationList(*revoked); err != nil {
			return err
		}
	}
	text := fs.Arg(0)
	if *pngPath != "" {
		if text, err = readQRPicture(*pngPath); err != nil {
			return err
		}
	}
	c := v.Verify(ctx, vision.Code{Text: text})
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	if err := enc.Encode(c); err != nil {
		return err
	}
	if c.Status != gate.StatusGreen {
		return errNotGreen
	}
	return nil
}

// readQRPicture decodes a pass from a picture through the gate's QR path.
func readQRPicture(name string) (string, error) {
	buf, err := os.ReadFile(name)
	if err != nil {
		return "", fmt.Errorf("pass verify: %w", err)
	}
	dec, err := qr.New()
	if err != nil {
		return "", err
	}
	defer dec.Close()
	codes, err := qr.DecodeBytes(dec, buf)
	if err != nil {
		return "", fmt.Errorf("pass verify: picture %s: %w", name, err)
	}
	for _, c := range codes {
		if strings.HasPrefix(c.Text, credential.PassPrefix) {
			return c.Text, nil
		}
	}
	return "", fmt.Errorf("pass verify: no site pass QR code in %s (%d other codes)", name, len(codes))
}

func passRevoke(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("pass revoke", flag.ContinueOnError)
	list := fs.String("list", "", "revocation list file (created if missing)")
	id := fs.String("id", "", "pass id to revoke")
	reason := fs.String("reason", "", "why (shown in denial events)")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *list == "" || *id == "" || fs.NArg() > 0 {
		return usageError{"pass revoke: want -list FILE -id ID"}
	}
	added, err := credential.Revoke(*list, *id, *reason, time.Now())
	if err != nil {
		return err
	}
	if !added {
		fmt.Fprintf(out, "%s was already revoked in %s\n", *id, *list)
		return nil
	}
	fmt.Fprintf(out, "revoked %s in %s; running gates re-read the list before their next check\n", *id, *list)
	return nil
}
