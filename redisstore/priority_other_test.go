//go:build !unix

package redisstore_test

import "errors"

func raisePriority(int) error { return errors.New("not supported") }

func realtime(int, bool) error { return errors.New("not supported") }
