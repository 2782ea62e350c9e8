package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"aimg/internal/aimg"
)

// Item reports (migration 00017): one row per report; items.removed_by_report
// marks the Items an accepted report deleted. The system queues
// (multipleReports, highHeat) are not stored: they are conditions on the
// Items, evaluated with the thresholds the library passes (aimg.ReportRules).

const reportColumns = `id, item_id, reporter_id, author_id, queue, additional_information, status, created_at,
	processed_at, approver_id, approval_information, download_count, download_last_at`

func scanReport(row interface{ Scan(...any) error }) (*aimg.Report, error) {
	var (
		r                   aimg.Report
		reporter            sql.NullString
		created             int64
		processed, download sql.NullInt64
	)
	if err := row.Scan(&r.ID, &r.ItemID, &reporter, &r.AuthorID, &r.Queue, &r.Info, &r.Status, &created,
		&processed, &r.ApproverID, &r.ApprovalInfo, &r.DownloadCount, &download); err != nil {
		return nil, err
	}
	r.ReporterID = reporter.String
	r.CreatedAt = fromMS(created)
	r.ProcessedAt, r.DownloadLastAt = fromNullMS(processed), fromNullMS(download)
	return &r, nil
}

func scanReports(rows *sql.Rows) ([]*aimg.Report, error) {
	defer rows.Close()
	var out []*aimg.Report
	for rows.Next() {
		r, err := scanReport(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// maxReportIDs bounds one call's ids.
const maxReportIDs = 1000

// CreateReports writes nr in one transaction and returns each Item's
// outcome in the order of nr.IDs. The Items are locked in id order
// (PostgreSQL) before the reporter's pending reports of them are read, so
// two concurrent calls of one reporter cannot both report an Item (the
// partial unique index reports_pending_item_reporter backs this up).
func (s *Store) CreateReports(ctx context.Context, nr aimg.NewReports) ([]aimg.ReportCreated, error) {
	if len(nr.IDs) > maxReportIDs || nr.Check == nil || nr.NewID == nil || nr.ReporterID == "" {
		return nil, aimg.Errorf(aimg.CodeInternal, "bad report call")
	}
	var out []aimg.ReportCreated
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		out = make([]aimg.ReportCreated, len(nr.IDs))
		if len(nr.IDs) == 0 {
			return nil
		}
		sorted := slices.Clone(nr.IDs)
		slices.Sort(sorted)
		byID, err := lockItems(ctx, tx, s.dialect, sorted)
		if err != nil {
			return err
		}
		in, args := inList(2, sorted)
		rows, err := tx.QueryContext(ctx, `SELECT item_id FROM reports WHERE reporter_id = $1 AND status = 'pending' AND item_id IN (`+in+`)`,
			append([]any{nr.ReporterID}, args...)...)
		if err != nil {
			return err
		}
		pending, err := scanStrings(rows)
		if err != nil {
			return err
		}
		for i, id := range nr.IDs {
			out[i].ItemID = id
			it := byID[id]
			if it == nil {
				out[i].Err = ErrChangeItemNotFound
				continue
			}
			if out[i].Err = nr.Check(it, slices.Contains(pending, id)); out[i].Err != nil {
				continue
			}
			out[i].ReportID = nr.NewID()
			if _, err := tx.ExecContext(ctx, `INSERT INTO reports (id, item_id, reporter_id, author_id, queue, additional_information, status, created_at)
				VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7)`,
				out[i].ReportID, id, nr.ReporterID, it.UserID, nr.Queue, nr.Info, ms(nr.At)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func scanStrings(rows *sql.Rows) ([]string, error) {
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// highHeatCond is the highHeat rule on the items table (alias t), with
// its two arguments.
func highHeatCond(t string, r aimg.ReportRules) (string, []any) {
	return t + ".deleted_at IS NULL AND " + t + ".dislike_count >= ? AND " + t + ".dislike_count * 100 >= ? * (" + t + ".like_count + " + t + ".dislike_count)",
		[]any{r.MinDislikes, r.MinDislikePercent}
}

// multipleReportsCond selects the reports whose Item is live and has at
// least MinPendingReports pending reports.
func multipleReportsCond(r aimg.ReportRules) (string, []any) {
	return `EXISTS (SELECT 1 FROM items l WHERE l.id = reports.item_id AND l.deleted_at IS NULL)
		AND (SELECT COUNT(*) FROM reports p WHERE p.item_id = reports.item_id AND p.status = 'pending') >= ?`, []any{r.MinPendingReports}
}

// reportsList is getReports' listing: newest first by created_at (indexes
// reports_created, reports_author_created, reports_status_created,
// reports_queue_created, chosen by the filters).
func reportsList(f aimg.ReportFilter, rules aimg.ReportRules) *keysetList {
	l := newKeysetList(reportColumns, "reports", "created_at", "id")
	if len(f.IDs) > 0 {
		l.WhereIn("id", f.IDs)
	}
	switch len(f.Statuses) {
	case 0:
	case 1:
		l.Where("status = ?", f.Statuses[0])
	default:
		l.WhereIn("status", f.Statuses)
	}
	if f.AuthorID != "" {
		l.Where("author_id = ?", f.AuthorID)
	}
	if f.After != nil {
		l.Where("created_at >= ?", ms(*f.After))
	}
	if f.Before != nil {
		l.Where("created_at <= ?", ms(*f.Before))
	}
	if len(f.Queues) == 1 && len(f.SystemQueues) == 0 {
		l.Where("queue = ?", f.Queues[0])
	} else if len(f.Queues)+len(f.SystemQueues) > 0 {
		var conds []string
		var args []any
		if len(f.Queues) > 0 {
			conds = append(conds, "queue IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(f.Queues)), ", ")+")")
			for _, q := range f.Queues {
				args = append(args, q)
			}
		}
		for _, q := range f.SystemQueues {
			switch q {
			case aimg.QueueMultipleReports:
				c, a := multipleReportsCond(rules)
				conds, args = append(conds, "("+c+")"), append(args, a...)
			case aimg.QueueHighHeat:
				c, a := highHeatCond("h", rules)
				conds, args = append(conds, "EXISTS (SELECT 1 FROM items h WHERE h.id = reports.item_id AND "+c+")"), append(args, a...)
			default:
				conds = append(conds, "1 = 0")
			}
		}
		l.Where("("+strings.Join(conds, " OR ")+")", args...)
	}
	return l
}

// ListReports returns a page of the reports f matches, newest first
// (p.Reverse: oldest first), with their Items, authors and system queues,
// and the number of reports f matches.
func (s *Store) ListReports(ctx context.Context, f aimg.ReportFilter, rules aimg.ReportRules, p aimg.Page) (aimg.ReportPage, error) {
	l := reportsList(f, rules)
	var page aimg.ReportPage
	q, args := l.Count()
	if err := s.r.QueryRowContext(ctx, q, args...).Scan(&page.Total); err != nil {
		return page, err
	}
	q, args = l.Page(p, s.dialect)
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return page, err
	}
	reports, err := scanReports(rows)
	if err != nil {
		return page, err
	}
	reports, page.Next = nextIndex(reports, p, func(r *aimg.Report) int64 { return ms(r.CreatedAt) })
	page.Reports, err = reportDetails(ctx, s.r, reports, rules)
	return page, err
}

// reportDetails adds each report's Item, author, the author's accepted
// count and the Item's system queues, in a few queries per page.
func reportDetails(ctx context.Context, q queryer, reports []*aimg.Report, rules aimg.ReportRules) ([]*aimg.ReportedItem, error) {
	out := make([]*aimg.ReportedItem, len(reports))
	if len(reports) == 0 {
		return out, nil
	}
	var itemIDs, authorIDs []string
	for _, r := range reports {
		itemIDs = append(itemIDs, r.ItemID)
		authorIDs = append(authorIDs, r.AuthorID)
	}
	slices.Sort(itemIDs)
	itemIDs = slices.Compact(itemIDs)
	slices.Sort(authorIDs)
	authorIDs = slices.Compact(authorIDs)

	in, args := inList(1, itemIDs)
	rows, err := q.QueryContext(ctx, `SELECT `+itemColumns+` FROM items WHERE id IN (`+in+`)`, args...)
	if err != nil {
		return nil, err
	}
	items, err := scanItems(rows)
	if err != nil {
		return nil, err
	}
	byItem := make(map[string]*aimg.Item, len(items))
	for _, it := range items {
		byItem[it.ID] = it
	}
	pending := map[string]int{}
	rows, err = q.QueryContext(ctx, `SELECT item_id, COUNT(*) FROM reports WHERE status = 'pending' AND item_id IN (`+in+`) GROUP BY item_id`, args...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			rows.Close()
			return nil, err
		}
		pending[id] = n
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}

	in, args = inList(1, authorIDs)
	rows, err = q.QueryContext(ctx, `SELECT `+userColumns+` FROM users WHERE id IN (`+in+`)`, args...)
	if err != nil {
		return nil, err
	}
	byUser := map[string]*aimg.User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		byUser[u.ID] = u
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	flagged := map[string]int64{}
	rows, err = q.QueryContext(ctx, `SELECT author_id, COUNT(DISTINCT item_id) FROM reports WHERE status = 'accepted' AND author_id IN (`+in+`) GROUP BY author_id`, args...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id string
		var n int64
		if err := rows.Scan(&id, &n); err != nil {
			rows.Close()
			return nil, err
		}
		flagged[id] = n
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	for i, r := range reports {
		d := &aimg.ReportedItem{Report: *r, Item: byItem[r.ItemID], Author: byUser[r.AuthorID], AuthorFlagged: flagged[r.AuthorID]}
		d.SystemQueues = []string{}
		if it := d.Item; it != nil && it.DeletedAt == nil {
			if pending[it.ID] >= rules.MinPendingReports {
				d.SystemQueues = append(d.SystemQueues, aimg.QueueMultipleReports)
			}
			if HighHeat(it, rules) {
				d.SystemQueues = append(d.SystemQueues, aimg.QueueHighHeat)
			}
		}
		out[i] = d
	}
	return out, nil
}

// HighHeat is the highHeat rule on one Item, as highHeatCond says it in SQL.
func HighHeat(it *aimg.Item, r aimg.ReportRules) bool {
	return it.DeletedAt == nil && it.DislikeCount >= int64(r.MinDislikes) &&
		it.DislikeCount*100 >= int64(r.MinDislikePercent)*(it.LikeCount+it.DislikeCount)
}

// Why a report of a closeReports call was not closed, besides the Item's
// deletion blockers.
var errReportClosed = map[string]*aimg.Error{
	aimg.ReportAccepted:              aimg.Errorf(aimg.CodeConflict, "Report is already closed (accepted)"),
	aimg.ReportDeclined:              aimg.Errorf(aimg.CodeConflict, "Report is already closed (declined)"),
	aimg.ReportAutomaticallyDeclined: aimg.Errorf(aimg.CodeConflict, "Report is already closed (automaticallyDeclined)"),
}

// CloseReports applies c in one transaction. Lock order is the Items'
// owners, the Items (id order), then the reports, as deleteItems and
// CreateReports: the reports' Items are read first without a lock (a
// report's Item never changes), their owners and they are locked, then the
// reports are locked and read again (an Item given to another user between
// the two reads starts the call over, as ChangeItems does). Accepting deletes the Items (soft,
// out of their Folders, marked removed_by_report) through changeItems, so
// item_counts follow in the same transaction; a report whose Item cannot
// be deleted (protected) stays pending with the reason. The other pending
// reports of an Item removed this way become automaticallyDeclined.
func (s *Store) CloseReports(ctx context.Context, c aimg.ReportClosing) ([]aimg.ReportClosed, error) {
	if len(c.IDs) > maxReportIDs || (c.Status != aimg.ReportAccepted && c.Status != aimg.ReportDeclined) {
		return nil, aimg.Errorf(aimg.CodeInternal, "bad report closing")
	}
	var out []aimg.ReportClosed
	var err error
	for range 3 {
		if out, err = s.closeReports(ctx, c); !errors.Is(err, errOwnersChanged) {
			break
		}
	}
	return out, err
}

func (s *Store) closeReports(ctx context.Context, c aimg.ReportClosing) ([]aimg.ReportClosed, error) {
	var out []aimg.ReportClosed
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		out = make([]aimg.ReportClosed, len(c.IDs))
		for i, id := range c.IDs {
			out[i] = aimg.ReportClosed{ID: id, Err: aimg.ErrReportNotFound}
		}
		if len(c.IDs) == 0 {
			return nil
		}
		sorted := slices.Clone(c.IDs)
		slices.Sort(sorted)
		in, args := inList(1, sorted)
		rows, err := tx.QueryContext(ctx, `SELECT DISTINCT item_id FROM reports WHERE id IN (`+in+`) ORDER BY item_id`, args...)
		if err != nil {
			return err
		}
		itemIDs, err := scanStrings(rows)
		if err != nil {
			return err
		}
		if len(itemIDs) == 0 {
			return nil
		}
		// Lock order as deleteItems: the owners, then the Items (id order).
		owners, err := s.changeOwners(ctx, tx, aimg.ItemChange{IDs: itemIDs})
		if err != nil {
			return err
		}
		if err := lockUsers(ctx, tx, s.dialect, owners...); err != nil {
			return err
		}
		byItem, err := lockItems(ctx, tx, s.dialect, itemIDs)
		if err != nil {
			return err
		}
		for _, it := range byItem {
			if s.dialect == Postgres && !slices.Contains(owners, it.UserID) { // given to another user meanwhile
				return errOwnersChanged
			}
		}
		lock := ""
		if s.dialect == Postgres {
			lock = " FOR UPDATE"
		}
		rows, err = tx.QueryContext(ctx, `SELECT `+reportColumns+` FROM reports WHERE id IN (`+in+`) ORDER BY id`+lock, args...)
		if err != nil {
			return err
		}
		named, err := scanReports(rows)
		if err != nil {
			return err
		}
		byID := map[string]*aimg.Report{}
		for _, r := range named {
			byID[r.ID] = r
		}
		var closing []*aimg.Report // pending reports to close, named then related
		for i, id := range c.IDs {
			r := byID[id]
			switch {
			case r == nil:
			case r.Status != aimg.ReportPending:
				out[i].Err = errReportClosed[r.Status]
			default:
				out[i].Err = nil
				closing = append(closing, r)
			}
		}
		if c.Related {
			in, args := inList(1, itemIDs)
			rows, err := tx.QueryContext(ctx, `SELECT `+reportColumns+` FROM reports WHERE status = 'pending' AND item_id IN (`+in+`) ORDER BY id`+lock, args...)
			if err != nil {
				return err
			}
			related, err := scanReports(rows)
			if err != nil {
				return err
			}
			for _, r := range related {
				if byID[r.ID] == nil {
					byID[r.ID] = r
					out = append(out, aimg.ReportClosed{ID: r.ID, Related: true})
					closing = append(closing, r)
				}
			}
		}
		failed := map[string]error{} // by Item id: why its reports cannot be accepted
		var removed []string
		if c.Status == aimg.ReportAccepted {
			var del []string
			for _, r := range closing {
				if !slices.Contains(del, r.ItemID) {
					del = append(del, r.ItemID)
				}
			}
			slices.Sort(del)
			res, err := s.changeItemsTx(ctx, tx, aimg.ItemChange{Op: aimg.ItemDelete, IDs: del, At: c.At, ByReport: true,
				Check: func(it *aimg.Item, _ bool) error {
					if err := it.DeleteBlocker(); err != nil && err != aimg.ErrItemAlreadyDeleted {
						return err
					}
					return nil
				}})
			if err != nil {
				return err
			}
			for _, r := range res {
				if r.Err != nil {
					failed[r.ID] = r.Err
				} else {
					removed = append(removed, r.ID)
				}
			}
		}
		pos := map[string]int{}
		for i, o := range out {
			pos[o.ID] = i
		}
		var done []string
		for _, r := range closing {
			if err := failed[r.ItemID]; err != nil {
				out[pos[r.ID]].Err = err
				continue
			}
			done = append(done, r.ID)
		}
		for len(done) > 0 {
			n := min(len(done), 500)
			in, args := inList(5, done[:n])
			if _, err := tx.ExecContext(ctx, `UPDATE reports SET status = $1, processed_at = $2, approver_id = $3, approval_information = $4
				WHERE id IN (`+in+`)`, append([]any{c.Status, ms(c.At), c.ApproverID, c.Info}, args...)...); err != nil {
				return err
			}
			done = done[n:]
		}
		if len(removed) > 0 {
			in, args := inList(4, removed)
			if _, err := tx.ExecContext(ctx, `UPDATE reports SET status = 'automaticallyDeclined', processed_at = $1, approver_id = $2,
				approval_information = $3 WHERE status = 'pending' AND item_id IN (`+in+`)`,
				append([]any{ms(c.At), c.ApproverID, "Closed automatically: another report of this Item was accepted and the Item removed"}, args...)...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DownloadReports counts one download of each report of ids (download_count
// + 1, download_last_at = at) and returns them with their details, in one
// transaction, in the order of ids (unknown ids are left out).
func (s *Store) DownloadReports(ctx context.Context, ids []string, rules aimg.ReportRules, at time.Time) ([]*aimg.ReportedItem, error) {
	if len(ids) > maxReportIDs {
		return nil, aimg.Errorf(aimg.CodeInternal, "too many report ids")
	}
	var out []*aimg.ReportedItem
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		out = nil
		if len(ids) == 0 {
			return nil
		}
		in, args := inList(2, ids)
		if _, err := tx.ExecContext(ctx, `UPDATE reports SET download_count = download_count + 1, download_last_at = $1 WHERE id IN (`+in+`)`,
			append([]any{ms(at)}, args...)...); err != nil {
			return err
		}
		in, args = inList(1, ids)
		rows, err := tx.QueryContext(ctx, `SELECT `+reportColumns+` FROM reports WHERE id IN (`+in+`)`, args...)
		if err != nil {
			return err
		}
		reports, err := scanReports(rows)
		if err != nil {
			return err
		}
		byID := map[string]*aimg.Report{}
		for _, r := range reports {
			byID[r.ID] = r
		}
		ordered := make([]*aimg.Report, 0, len(reports))
		for _, id := range ids {
			if r := byID[id]; r != nil {
				ordered = append(ordered, r)
			}
		}
		out, err = reportDetails(ctx, tx, ordered, rules)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ReportCounts are getUser's flaggedImagesCount (the user's Items with an
// accepted report) and highHeatImagesCount (the user's live Items in the
// highHeat system queue).
func (s *Store) ReportCounts(ctx context.Context, userID string, rules aimg.ReportRules) (flagged, highHeat int64, err error) {
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(DISTINCT item_id) FROM reports WHERE author_id = $1 AND status = 'accepted'`,
		userID).Scan(&flagged); err != nil {
		return 0, 0, err
	}
	err = s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM items WHERE user_id = $1 AND deleted_at IS NULL
		AND dislike_count >= $2 AND dislike_count * 100 >= $3 * (like_count + dislike_count)`,
		userID, rules.MinDislikes, rules.MinDislikePercent).Scan(&highHeat)
	return flagged, highHeat, err
}

// moveGuestReports hands a guest's reports (as reporter and as author) to
// the account, with its Items.
func moveGuestReports(ctx context.Context, tx *sql.Tx, guestUserID, userID string) error {
	if guestUserID == userID {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE reports SET author_id = $2 WHERE author_id = $1`, guestUserID, userID); err != nil {
		return err
	}
	// A pending report of an Item the account has a pending report of too
	// would break the one-pending-report rule: the guest's goes.
	if _, err := tx.ExecContext(ctx, `DELETE FROM reports WHERE reporter_id = $1 AND status = 'pending'
		AND item_id IN (SELECT item_id FROM reports WHERE reporter_id = $2 AND status = 'pending')`, guestUserID, userID); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE reports SET reporter_id = $2 WHERE reporter_id = $1`, guestUserID, userID)
	return err
}

// followReportAuthors sets author_id of userID's reports to their Items'
// owner now (after migrateLibrary moved some of the Items away).
func followReportAuthors(ctx context.Context, tx *sql.Tx, userID string) error {
	_, err := tx.ExecContext(ctx, `UPDATE reports SET author_id = (SELECT i.user_id FROM items i WHERE i.id = reports.item_id)
		WHERE author_id = $1`, userID)
	return err
}
