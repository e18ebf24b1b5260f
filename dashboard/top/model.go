package top

import (
	"context"
	"io"

	tea "github.com/charmbracelet/bubbletea"

	"ipcluster/dashboard"
)

// Run shows the collector's views on the terminal (in, out) until q, Ctrl-C or ctx ends.
func Run(ctx context.Context, c *dashboard.Collector, in io.Reader, out io.Writer) error {
	views, cancel := c.Subscribe()
	defer cancel()
	m := &model{views: views, quit: make(chan struct{}), width: 80, height: 24}
	p := tea.NewProgram(m, tea.WithContext(ctx), tea.WithInput(in), tea.WithOutput(out), tea.WithAltScreen())
	_, err := p.Run()
	close(m.quit) // ends a pending wait for the next view
	if ctx.Err() != nil {
		return nil // ended from outside (a signal): not an error
	}
	return err
}

type viewMsg dashboard.View

type model struct {
	views         <-chan dashboard.View
	quit          chan struct{}
	view          dashboard.View
	have          bool
	width, height int
	offset, maxOf int
}

// next waits for the collector's next view.
func (m *model) next() tea.Msg {
	select {
	case v := <-m.views:
		return viewMsg(v)
	case <-m.quit:
		return nil
	}
}

func (m *model) Init() tea.Cmd { return m.next }

func (m *model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		switch msg.String() {
		case "q", "Q", "ctrl+c", "esc":
			return m, tea.Quit
		case "down", "j":
			m.offset = min(m.offset+1, m.maxOf)
		case "up", "k":
			m.offset = max(m.offset-1, 0)
		case "pgdown", " ":
			m.offset = min(m.offset+m.height/2, m.maxOf)
		case "pgup":
			m.offset = max(m.offset-m.height/2, 0)
		case "home", "g":
			m.offset = 0
		}
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
	case viewMsg:
		m.view, m.have = dashboard.View(msg), true
		return m, m.next
	}
	return m, nil
}

func (m *model) View() string {
	if !m.have {
		return "ipcluster top: reading the cluster… (q quits)"
	}
	s, maxOf := Render(m.view, m.width, m.height, m.offset)
	m.maxOf = maxOf
	return s
}
