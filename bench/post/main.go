// Command post is bench/run's baseline for a renewal: the refresh-token
// request `oat token` makes, done by hand with net/http. It reads the refresh
// token from a file, POSTs grant_type=refresh_token, and stores the rotated
// refresh token the way a careful client does (write, fsync, rename), since
// the provider accepts each refresh token once.
//
//	post TOKEN_URL CLIENT_ID REFRESH_TOKEN_FILE
package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "post:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) != 3 {
		return fmt.Errorf("usage: post TOKEN_URL CLIENT_ID REFRESH_TOKEN_FILE")
	}
	tokenURL, clientID, file := args[0], args[1], args[2]
	rt, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {string(rt)}, "client_id": {clientID}}
	hc := &http.Client{Timeout: 10 * time.Second}
	resp, err := hc.Post(tokenURL, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil {
		return fmt.Errorf("%s: %w", resp.Status, err)
	}
	if resp.StatusCode != http.StatusOK || tok.AccessToken == "" {
		return fmt.Errorf("token endpoint answered %s", resp.Status)
	}
	if tok.RefreshToken != "" {
		tmp := file + ".tmp"
		f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		_, err = f.WriteString(tok.RefreshToken)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		if err := os.Rename(tmp, file); err != nil {
			return err
		}
	}
	_, err = fmt.Println(tok.AccessToken)
	return err
}
