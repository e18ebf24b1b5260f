package remote

import (
	"context"
	"errors"
	"sync"
)

// Pool keeps one connection per host name, dialled on first use and again after it drops.
type Pool struct {
	opts  Options
	mu    sync.Mutex
	conns map[string]*dialing
}

type dialing struct {
	ready chan struct{}
	c     *Client
	err   error
}

// NewPool makes a pool that connects with o.
func NewPool(o Options) *Pool { return &Pool{opts: o, conns: map[string]*dialing{}} }

// Options are the pool's connection options.
func (p *Pool) Options() Options { return p.opts }

// Get returns the connection to name, dialling it if needed; concurrent callers share one
// dial. A failed dial is not kept: the next Get tries again.
func (p *Pool) Get(ctx context.Context, name string) (*Client, error) {
	p.mu.Lock()
	d := p.conns[name]
	if d != nil {
		select {
		case <-d.ready:
			if d.err != nil || !d.c.Alive() {
				d = nil
			}
		default:
		}
	}
	if d == nil {
		d = &dialing{ready: make(chan struct{})}
		p.conns[name] = d
		p.mu.Unlock()
		d.c, d.err = Dial(context.WithoutCancel(ctx), p.opts, name) // bounded by the connect timeout
		close(d.ready)
		if d.err != nil {
			p.mu.Lock()
			if p.conns[name] == d {
				delete(p.conns, name)
			}
			p.mu.Unlock()
		}
		return d.c, d.err
	}
	p.mu.Unlock()
	select {
	case <-d.ready:
		return d.c, d.err
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

// Close closes every connection.
func (p *Pool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for name, d := range p.conns {
		select {
		case <-d.ready:
			if d.c != nil {
				d.c.Close()
			}
		default:
		}
		delete(p.conns, name)
	}
}

// ForEach calls fn for every item with at most limit calls running at once, and returns
// every error joined (fn should wrap its errors with the host it was working on).
func ForEach[T any](ctx context.Context, items []T, limit int, fn func(ctx context.Context, item T) error) error {
	if limit <= 0 {
		limit = 16
	}
	sem := make(chan struct{}, limit)
	errs := make([]error, len(items))
	var wg sync.WaitGroup
	for i, it := range items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				errs[i] = context.Cause(ctx)
				return
			}
			defer func() { <-sem }()
			errs[i] = fn(ctx, it)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
