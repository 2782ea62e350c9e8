package httpapi

import (
	"context"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"aimg/internal/aimg"
	"aimg/internal/generation"
	"aimg/internal/server"
)

// cancelGeneration and getItemEvents (docs/decisions.md "Cancel and live
// events (issue 9)").

type cancelGenerationInput struct {
	Auth
	Body struct {
		ImageIDs StringList `json:"imageIDs,omitempty" doc:"The Items to cancel (at most 1,000), as a JSON array or one comma-separated string. At least one of imageIDs, imageID or batchID must be given."`
		ImageID  string     `json:"imageID,omitempty" doc:"One Item to cancel (added to imageIDs)."`
		BatchID  string     `json:"batchID,omitempty" doc:"Cancel every Item of this batch (the caller's; Admins: anyone's)."`
	}
}

const cancelGenerationDoc = "Cancels queued or generating Items: a queued Job leaves its queue at once, a running one " +
	"is interrupted on its worker (told at its next heartbeat). The Items become failed with reason \"cancelled\" " +
	"(getItemEvents shows it). A Job renders its Items together: cancelling one Item cancels its whole Job, its " +
	"other Items too. The answer has one {id, success, message} per Item named (batchID: per Item of the batch). " +
	"Another user's Item is answered \"Item not found\" (Admins may cancel anyone's); a completed or failed Item " +
	"is answered with success false and nothing changes."

func (s *Server) cancelGeneration(ctx context.Context, c aimg.Caller, in *cancelGenerationInput) (*Response[[]ItemOutcome], error) {
	ids := []string(in.Body.ImageIDs)
	if in.Body.ImageID != "" {
		ids = append(ids, in.Body.ImageID)
	}
	res, err := s.Generation.Cancel(ctx, c, ids, in.Body.BatchID)
	if err != nil {
		return nil, err
	}
	out := make([]ItemOutcome, len(res))
	for i, r := range res {
		out[i] = ItemOutcome{ID: r.ID, Success: r.Err == nil, Message: r.Message()}
	}
	return reply(out)
}

type itemEventsInput struct {
	Auth
	ImageIDs string `query:"imageIDs" required:"true" doc:"The caller's Items to watch, comma-separated (or a JSON array); at most generation.itemEvents.maxItems (100)."`
}

const getItemEventsDoc = "A Server-Sent Events stream (text/event-stream) of the caller's Items: first one event per " +
	"Item with its current state, then one per change (queued, processing with progress, completed, failed). Each " +
	"event is `data: <JSON>`, the JSON being getItemStatus's GenerationStatus plus `progress` (0..1, processing) " +
	"and `reason` (failed; \"cancelled\" for a cancelled Item). A comment line `: keep-alive` comes every 15 s. The " +
	"stream ends with `event: end` and `data: {\"reason\": \"final\"|\"timeout\"|\"shutdown\"|\"gone\"}`: final when " +
	"every Item is completed or failed (close the EventSource then, or it reconnects), timeout after " +
	"generation.itemEvents.maxDuration and shutdown when the server stops (reconnect: the first events are the " +
	"current state again). Auth is X-Session-ID as for getItemStatus (a browser's EventSource cannot send it: read " +
	"the stream with fetch). Any id that is not the caller's is answered 404 before the stream starts. Too many " +
	"open streams (per user, per server) is 429."

func (s *Server) getItemEvents(ctx context.Context, c aimg.Caller, in *itemEventsInput) (*huma.StreamResponse, error) {
	ids, err := parseIDList("imageIDs", in.ImageIDs)
	if err != nil {
		return nil, err
	}
	key := c.ClientIP
	if c.User != nil {
		key = c.User.ID
	}
	if err := s.Accounts.Allow(ctx, "getItemEvents:user", key); err != nil {
		return nil, err
	}
	st, err := s.Generation.OpenItemStream(ctx, c, ids)
	if err != nil {
		return nil, err
	}
	return &huma.StreamResponse{Body: func(hctx huma.Context) {
		defer st.Close()
		r, w := humago.Unwrap(hctx)
		// The stream's own limit is generation.itemEvents.maxDuration.
		es, err := server.StartEventStream(w, s.Config.Service.HTTP.WriteTimeout, 5*time.Second)
		if err != nil {
			return
		}
		if err := st.Run(r.Context(), generation.EventSink(es)); err != nil && r.Context().Err() == nil {
			s.Logger.WarnContext(ctx, "item event stream ended", "err", err)
		}
	}}, nil
}

// eventStreamResponse documents a 200 that is an event stream, not an envelope.
func eventStreamResponse(_ *Server, op *huma.Operation) {
	op.Responses = map[string]*huma.Response{"200": {
		Description: "Server-Sent Events: `data: <GenerationStatus JSON with progress and reason>` per change, then `event: end`.",
		Content:     map[string]*huma.MediaType{"text/event-stream": {Schema: &huma.Schema{Type: "string"}}},
	}}
}
