package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"syscall"
	"time"
)

// slowStream plays a slow browser: it opens the live stream with a 4 KiB
// receive buffer and reads 512 bytes every 250 ms (2 KiB/s, far less than
// the stream at full load) until the console tells it to reload or
// -slow-pause passes; it reports "slow: bytes=N reload=BOOL after=DURATION".
func slowStream(ctx context.Context, o options) error {
	u, err := url.Parse(o.slowStream)
	if err != nil {
		return err
	}
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		return errors.Join(err, serr)
	}}
	conn, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return err
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\nCookie: %s\r\n\r\n", u.RequestURI(), u.Host, o.cookie)
	start := time.Now()
	fmt.Println("slow: connected")
	var all []byte
	buf := make([]byte, 512)
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	end := time.After(o.slowPause)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-end:
			fmt.Printf("slow: bytes=%d reload=false after=%s\n", len(all), time.Since(start).Round(time.Millisecond))
			return nil
		case <-t.C:
		}
		_ = conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		n, err := conn.Read(buf)
		all = append(all, buf[:n]...)
		if bytes.Contains(all, []byte("event: reload")) {
			fmt.Printf("slow: bytes=%d reload=true after=%s\n", len(all), time.Since(start).Round(time.Millisecond))
			return nil
		}
		var ne net.Error
		if err != nil && !(errors.As(err, &ne) && ne.Timeout()) {
			fmt.Printf("slow: bytes=%d reload=false after=%s closed=%v\n", len(all), time.Since(start).Round(time.Millisecond), err)
			return nil
		}
	}
}
