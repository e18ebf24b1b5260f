package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"ipcluster/runtime/client"
)

// Connect to the cluster of a profile, wait for engines, run a command everywhere, then a
// pipeline of load-balanced tasks.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := client.Connect(ctx, client.Options{Profile: "default"})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	if _, err := c.WaitForEngines(ctx, 2); err != nil {
		log.Fatal(err)
	}

	results, err := c.Execute(ctx, nil, "hostname") // nil: every engine
	for _, r := range results {
		fmt.Printf("engine %d: %s", r.EngineID, r.Stdout)
	}
	if err != nil {
		log.Print(err) // joins the failures; each result has its own Err and ExitCode
	}

	fetch, err := c.Submit(ctx, "curl -sO https://example.org/data.csv", client.TaskOptions{Retries: 2})
	if err != nil {
		log.Fatal(err)
	}
	// runs where the download ran, once it succeeded
	count, err := c.Submit(ctx, "wc -l data.csv", client.TaskOptions{After: client.DependOn(fetch), Follow: client.DependOn(fetch)})
	if err != nil {
		log.Fatal(err)
	}
	r, err := count.Wait(ctx)
	var remote *client.RemoteError
	switch {
	case errors.Is(err, client.ErrDependency):
		log.Print("the download failed")
	case errors.As(err, &remote):
		log.Printf("wc failed on engine %d with exit code %d: %v", remote.EngineID, r.ExitCode, remote)
	case err != nil:
		log.Fatal(err)
	default:
		fmt.Print(r.Stdout)
	}
}
