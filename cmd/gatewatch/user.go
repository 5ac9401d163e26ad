package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/gate/central/console"
)

func init() {
	commands["user"] = func(ctx context.Context, args []string) error { return cmdUser(ctx, args, os.Stdin, os.Stdout) }
}

const userUsage = "usage: gatewatch user add -c FILE [-role viewer|guard|admin] [-language en|zh] NAME\n" +
	"       gatewatch user passwd -c FILE NAME\n" +
	"       gatewatch user remove -c FILE NAME\n" +
	"       gatewatch user list -c FILE\n" +
	"The password is read from the first line of standard input."

// cmdUser manages the console's users: add, passwd, remove, list.
func cmdUser(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError{msg: userUsage}
	}
	sub := args[0]
	fs := flag.NewFlagSet("user "+sub, flag.ContinueOnError)
	path := fs.String("c", "/etc/gatewatch/gatewatch.yaml", "config file")
	role := fs.String("role", console.RoleGuard, "role: viewer, guard or admin (add)")
	lang := fs.String("language", "", "language: en or zh (add; default console.language)")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{msg: err.Error()}
	}
	wantArgs := 1
	if sub == "list" {
		wantArgs = 0
	}
	if fs.NArg() != wantArgs {
		return usageError{msg: userUsage}
	}
	switch sub {
	case "add", "passwd", "remove", "list":
	default:
		return usageError{msg: userUsage}
	}
	c, err := configs.LoadGatewatch(*path)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, c, newLogger(c.Log))
	if err != nil {
		return err
	}
	defer st.Close()
	db, err := consoleDB(ctx, st)
	if err != nil {
		return err
	}
	return userAction(ctx, db, c, sub, fs.Arg(0), *role, *lang, stdin, stdout)
}

// userAction carries out sub (add, passwd, remove or list) on the console's
// users in db; add's language defaults to c's console.language.
func userAction(ctx context.Context, db *console.DB, c *configs.Gatewatch, sub, name, role, lang string, stdin io.Reader, stdout io.Writer) error {
	switch sub {
	case "add":
		if lang == "" {
			lang = c.ConsoleLanguage()
		}
		pw, err := readPassword(stdin)
		if err != nil {
			return err
		}
		if err := db.AddUser(ctx, name, pw, role, lang); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "added %s (%s)\n", name, role)
	case "passwd":
		pw, err := readPassword(stdin)
		if err != nil {
			return err
		}
		if err := db.SetPassword(ctx, name, pw); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "password of %s changed; their sessions ended\n", name)
	case "remove":
		if err := db.RemoveUser(ctx, name); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "removed %s\n", name)
	case "list":
		users, err := db.Users(ctx)
		if err != nil {
			return err
		}
		for _, u := range users {
			fmt.Fprintf(stdout, "%s\t%s\t%s\n", u.Username, u.Role, u.Language)
		}
	}
	return nil
}

func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("gatewatch: user: password: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", errors.New("gatewatch: user: no password on standard input")
	}
	return pw, nil
}
