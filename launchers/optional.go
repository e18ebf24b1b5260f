package launchers

import "context"

// Optional capabilities, discovered by type assertion.

// Sizer is implemented by engine launchers whose configuration says how many engines they
// start (an SSH engines dict): used when the user gave no n.
type Sizer interface {
	Size() int
}

// Fetcher is implemented by launchers whose controller writes its connection files on
// another host: FetchFiles copies back the ones that exist so far (call it until the local
// files are complete).
type Fetcher interface {
	FetchFiles(ctx context.Context, h *Handle) error
}
