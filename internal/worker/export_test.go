package worker

// AfterStopClaimingForTest makes Stop call fn once it has stopped claiming,
// before it waits for the slots: a test can then let a claim return into
// exactly that moment.
func AfterStopClaimingForTest(p *Pool, fn func()) { p.afterStopClaiming = fn }
