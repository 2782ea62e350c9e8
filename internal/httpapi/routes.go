package httpapi

import (
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"aimg/internal/aimg"
	"aimg/internal/library"
)

// routes is the AIMG API: every operation with its method, its name (the
// path is /api/<name>), who may call it, and its handler. The access column
// is enforced by register and is also what the OpenAPI document declares.
func (s *Server) routes() {
	// User Management
	register(s, post("createUser", "Create a User", tagUsers), newSession, s.createUser)
	register(s, post("authenticateUser", "Sign a User in", tagUsers), newSession, s.authenticateUser)
	register(s, post("signOutUser", "Sign the current User out", tagUsers), ownSession, s.signOutUser)
	register(s, post("requestOTP", "Email a one-time password and magic link", tagUsers), anyone, s.requestOTP)
	register(s, get("getSelfUser", "Get the current User", tagUsers), newSession, s.getSelfUser)
	register(s, post("setSelfUserProperties", "Change the current User's properties", tagUsers), signedIn, s.setSelfUserProperties)
	register(s, post("setSelfUserProfilePicture", "Set or remove the current User's profile picture", tagUsers, imageBody), signedIn, s.setSelfUserProfilePicture)
	register(s, post("setProfilePictureBanned", "Ban or unban a User's profile picture (Admin)", tagUsers), admin, s.setProfilePictureBanned)
	register(s, post("setUserAdditionalInformation", "Set the notes on a User (Admin)", tagUsers), admin, s.setUserAdditionalInformation)
	register(s, get("getUserKVP", "Get a value of the current User", tagUsers), signedIn, s.getUserKVP)
	register(s, post("setUserKVP", "Set a value of the current User", tagUsers), signedIn, s.setUserKVP)
	register(s, del("deleteUserKVP", "Delete a value of the current User", tagUsers), signedIn, s.deleteUserKVP)
	register(s, get("getUser", "Get a User (extended for Admins)", tagUsers, described(getUserDoc)), anyone, s.getUser)
	register(s, get("generateStrongPassword", "Generate a password that satisfies the rule", tagUsers), anyone, s.generateStrongPassword)
	register(s, del("deleteUser", "Delete the current User (Admins: any User)", tagUsers), session, s.deleteUser)
	register(s, post("setUserAbuseLevel", "Set or read a User's abuse level (Admin)", tagUsers), admin, s.setUserAbuseLevel)
	// App passwords (beyond the spec) for HTTP Basic on the OCS surface: docs/api.md.
	register(s, post("createAppPassword", "Create an app password for a Nextcloud client, shown once", tagUsers), signedIn, s.createAppPassword)
	register(s, get("getAppPasswords", "List the current User's app passwords", tagUsers), signedIn, s.getAppPasswords)
	register(s, post("revokeAppPassword", "Revoke one of the current User's app passwords", tagUsers), signedIn, s.revokeAppPassword)

	// Premium Membership Management: plans, admin grants, cancelling, gift
	// cards (docs/decisions.md "Premium tiers"); getBillingPlans is anyone's,
	// limited per client address. Card subscriptions (arkpay), Stripe
	// Checkout and the providers' webhooks: docs/payments.md.
	register(s, get("getBillingPlans", "List the Billing Plans (anyone)", tagPremium), anyone, s.getBillingPlans)
	register(s, post("createBillingPlan", "Create a Billing Plan (Admin)", tagPremium), admin, s.createBillingPlan)
	register(s, del("cancelMembership", "Stop the current User's membership from renewing", tagPremium), signedIn, s.cancelMembership)
	register(s, post("setAdminProvidedPremiumTier", "Grant or end an admin-provided Premium Tier (Admin)", tagPremium), admin, s.setAdminProvidedPremiumTier)
	register(s, post("payWithCardEmail", "Email the card payment links of the Billing Plans", tagPremium), anyone, s.payWithCardEmail)
	register(s, post("redeemGiftCard", "Redeem a Gift Card for the current User", tagPremium), signedIn, s.redeemGiftCard)
	register(s, get("downloadGiftCards", "Create Gift Cards and download their codes (Admin)", tagPremium, described(downloadGiftCardsDoc), textResponse), admin, s.downloadGiftCards)
	register(s, post("processCardSubscription", "Subscribe to a Billing Plan with a card (arkpay)", tagPremium), signedIn, s.processCardSubscription)
	register(s, post("createStripeCheckout", "Start a Stripe Checkout for a Billing Plan", tagPremium), signedIn, s.createStripeCheckout)
	// The providers' webhooks: signed by the provider, not by a session.
	register(s, post("stripeWebhook", "Stripe's webhook (Stripe-Signature)", tagPremium, at("/api/payments/stripe/webhook")), anyone, s.stripeWebhook)
	register(s, post("arkpayWebhook", "The arkpay processor's webhook (Arkpay-Signature)", tagPremium, at("/api/payments/arkpay/webhook")), anyone, s.arkpayWebhook)
	// Boosty (docs/payments.md "Boosty"): cookies sealed at rest, never returned.
	register(s, post("injectBoostyAdminAccountCookies", "Inject the Boosty blog owner's cookies (Admin)", tagPremium), admin, s.injectBoostyAdminAccountCookies)
	register(s, post("checkBoostySubscription", "Claim the current User's Boosty subscription", tagPremium, described(checkBoostyDoc)), signedIn, s.checkBoostySubscription)
	// External Login Providers (docs/decisions.md "External sign-in"): POST
	// answers 302 to the provider; its callback answers 302 to redirectURL
	// with ?b=. Both are limited per client address.
	register(s, post("authLoginProvider", "Sign in with an external provider (302 to it)", tagUsers,
		at("/api/auth/{loginProvider}"), found, described(authStartDoc)), newSession, s.authStart)
	register(s, get("authLoginProviderCallback", "The provider's return to the server (302 to redirectURL with ?b=)", tagUsers,
		at("/api/auth/{loginProvider}/callback"), found), anyone, s.authCallback)

	// Image Generation
	register(s, post("generateImage", "Generate an image", tagGeneration), session, s.generateImage)
	register(s, post("generateVideo", "Generate a video", tagGeneration), session, s.generateVideo)
	register(s, get("getItemStatus", "Get an Item's generation status", tagGeneration), session, s.getItemStatus)
	// Cancel and live progress (docs/decisions.md "Cancel and live events (issue 9)").
	register(s, post("cancelGeneration", "Cancel queued or generating Items (owner or Admin)", tagGeneration, described(cancelGenerationDoc)), session, s.cancelGeneration)
	register(s, get("getItemEvents", "Stream the caller's Items' status and progress (Server-Sent Events)", tagGeneration,
		described(getItemEventsDoc), eventStreamResponse), session, s.getItemEvents)
	register(s, get("getModels", "List the AI generation Models", tagGeneration), anyone, s.getModels)
	register(s, get("getQueuesLength", "Get the length of the generation queues", tagGeneration), anyone, s.getQueuesLength)
	register(s, get("getSamplePrompts", "List sample prompts", tagGeneration), anyone, s.getSamplePrompts)
	// Remote GPU workers' keys (docs/worker-protocol.md); the protocol
	// itself is its own surface, internal/workerapi.
	register(s, post("createWorkerKey", "Create a remote worker's key, shown once (Admin)", tagGeneration), admin, s.createWorkerKey)
	register(s, get("getWorkerKeys", "List the worker keys (Admin)", tagGeneration), admin, s.getWorkerKeys)
	register(s, post("revokeWorkerKey", "Revoke a worker key; its Jobs go back to their queues (Admin)", tagGeneration), admin, s.revokeWorkerKey)

	// API2 at /api/2/... (signed-in Users of PRO tier 1 or more; 401, 403 otherwise)
	register(s, get("api2GetUserSession", "Get the API2 User session", tagAPI2Users, at("/api/2/getUserSession")), signedIn, s.api2GetUserSession)
	register(s, get("api2GetAggregatedWorkflowTemplates", "List the Workflow Templates", tagAPI2Workflows, at("/api/2/getAggregatedWorkflowTemplates")), signedIn, s.api2GetWorkflowTemplates)
	register(s, get("api2GetFileGroupItems", "List the files of a Workflow Template file group", tagAPI2Workflows, at("/api/2/getFileGroupItems")), signedIn, s.api2GetFileGroupItems)
	register(s, get("api2GetWorkflowStatus", "Get the status of one Workflow or several", tagAPI2Workflows, at("/api/2/getWorkflowStatus")), signedIn, s.api2GetWorkflowStatus)
	register(s, post("api2EnqueueWorkflow", "Enqueue a Workflow from a Workflow Template", tagAPI2Workflows, at("/api/2/enqueueWorkflow")), signedIn, s.api2EnqueueWorkflow)

	// Image Management (read side)
	register(s, get("getItem", "Get an Item", tagImages), session, s.getItem)
	register(s, get("getItemDetails", "Get an Item with its generation parameters", tagImages), session, s.getItemDetails)
	register(s, get("getLastCompletedItem", "Get the last completed Item", tagImages), session, s.getLastCompletedItem)
	register(s, get("getMyCreations", "List the current User's Items", tagImages), session, s.getMyCreations)
	register(s, get("getBatchItems", "List the Items of a batch", tagImages), session, s.getBatchItems)

	// Image Management: reactions
	register(s, post("likeItems", "Like Items (removes the caller's dislike)", tagImages), session, s.reactionHandler(library.Like))
	register(s, post("unlikeItems", "Remove the caller's like from Items", tagImages), session, s.reactionHandler(library.Unlike))
	register(s, post("dislikeItems", "Dislike Items (removes the caller's like)", tagImages), session, s.reactionHandler(library.Dislike))
	register(s, post("undislikeItems", "Remove the caller's dislike from Items", tagImages), session, s.reactionHandler(library.Undislike))

	// Image Management: deleting, restoring, protecting
	register(s, del("deleteItems", "Delete Items (soft; Admins: anyone's)", tagImages), session, s.deleteItems)
	register(s, post("restoreItems", "Restore deleted Items (Admin)", tagImages), admin, s.restoreItems)
	register(s, post("setProtected", "Toggle Items' protected status (Admin)", tagImages), admin, s.setProtected)

	// Image Management: public approval
	register(s, post("setItemProperties", "Set an own Item's isPublic or publicApprovalStatus", tagImages), session, s.setItemProperties)
	register(s, post("setPublicApprovalStatus", "Approve or reject Items for publication (Admin)", tagImages), admin, s.setPublicApprovalStatus)

	// Image Management: the public side and the Admin's library tools
	register(s, get("getPublicCreations", "List publicly visible Items (public and in a Public Folder)", tagImages), anyone, s.getPublicCreations)
	register(s, get("getLatestItems", "List the latest published Items", tagImages), anyone, s.getLatestItems)
	register(s, get("getSampleItems", "Draw sample Items among the most liked public ones", tagImages), anyone, s.getSampleItems)
	register(s, get("getItems", "List every User's Items (Admin)", tagImages), admin, s.getItems)
	register(s, post("migrateLibrary", "Move a User's Items and Folders to another User (Admin)", tagImages), admin, s.migrateLibrary)

	// Image Management: reports and moderation queues (docs/decisions.md "Reports")
	register(s, post("reportItems", "Report Items for review by Admins", tagImages), signedIn, s.reportItems)
	register(s, get("getReportQueues", "List the report queues (Admins: also the system queues)", tagImages), session, s.getReportQueues)
	register(s, get("getReports", "List Item reports (Admin)", tagImages), admin, s.getReports)
	register(s, post("closeReports", "Accept (delete the Items) or decline reports (Admin)", tagImages), admin, s.closeReports)
	register(s, get("downloadReportsForEpoch", "Download reports as CSV (Admin)", tagImages, described(downloadReportsDoc), csvResponse), admin, s.downloadReportsForEpoch)

	// Private Folder Management
	register(s, get("getSelfFolders", "List the current User's Private Folders", tagFolders), signedIn, s.getSelfFolders)
	register(s, post("createSelfFolder", "Create a Private Folder", tagFolders), signedIn, s.createFolder(library.Private))
	register(s, post("setSelfFolderProperties", "Rename or describe a Private Folder", tagFolders), signedIn, s.setFolderProperties(library.Private))
	register(s, del("deleteSelfFolder", "Delete a Private Folder (its Items go to the root Folder)", tagFolders), signedIn, s.deleteFolder(library.Private))
	register(s, post("addImagesToSelfFolder", "Move Items into a Private Folder", tagFolders), signedIn, s.folderItemsHandler(library.Private, true))
	register(s, post("removeImagesFromSelfFolder", "Move Items out of a Private Folder to the root", tagFolders), signedIn, s.folderItemsHandler(library.Private, false))
	register(s, post("addThumbnailImagesForSelfFolder", "Add Thumbnails to a Private Folder", tagFolders), signedIn, s.thumbnailHandler(library.Private, aimg.ThumbAdd))
	register(s, post("removeThumbnailImagesForSelfFolder", "Remove Thumbnails from a Private Folder", tagFolders), signedIn, s.thumbnailHandler(library.Private, aimg.ThumbRemove))
	register(s, post("setThumbnailImagesForSelfFolder", "Replace a Private Folder's Thumbnails", tagFolders), signedIn, s.thumbnailHandler(library.Private, aimg.ThumbSet))

	// Public Folder Management: the same handlers with library.Public (p-
	// ids; only public Items enter); getPublicFolders is anyone's, rate
	// limited per client address.
	register(s, get("getPublicFolders", "List Public Folders (anyone)", tagPublicFolders), anyone, s.getPublicFolders)
	register(s, post("createPublicFolder", "Create a Public Folder", tagPublicFolders), signedIn, s.createFolder(library.Public))
	register(s, post("setPublicFolderProperties", "Rename or describe a Public Folder", tagPublicFolders), signedIn, s.setFolderProperties(library.Public))
	register(s, del("deletePublicFolder", "Delete a Public Folder (its Items go to the root Folder)", tagPublicFolders), signedIn, s.deleteFolder(library.Public))
	register(s, post("addImagesToPublicFolder", "Move public Items into a Public Folder", tagPublicFolders), signedIn, s.folderItemsHandler(library.Public, true))
	register(s, post("removeImagesFromPublicFolder", "Move Items out of a Public Folder to the root", tagPublicFolders), signedIn, s.folderItemsHandler(library.Public, false))
	register(s, post("addThumbnailImagesForPublicFolder", "Add Thumbnails to a Public Folder", tagPublicFolders), signedIn, s.thumbnailHandler(library.Public, aimg.ThumbAdd))
	register(s, post("removeThumbnailImagesForPublicFolder", "Remove Thumbnails from a Public Folder", tagPublicFolders), signedIn, s.thumbnailHandler(library.Public, aimg.ThumbRemove))
	register(s, post("setThumbnailImagesForPublicFolder", "Replace a Public Folder's Thumbnails", tagPublicFolders), signedIn, s.thumbnailHandler(library.Public, aimg.ThumbSet))

	// Common Folder Management
	register(s, post("moveItemsBetweenFolders", "Move Items between Folders of either kind (null or root: the root Folder)", tagCommonFolders), signedIn, s.moveItemsBetweenFolders)

	// Tags Management: tags on the caller's own completed Items (a guest's
	// too) and Folders (signed in); the list is public, limited per address.
	register(s, get("getTagsList", "List the tags in use, most used first", tagTags), anyone, s.getTagsList)
	register(s, post("addTagsToItem", "Add tags to an own Item or Folder", tagTags), session, s.tagsHandler(aimg.TagAdd))
	register(s, post("removeTagsFromItem", "Remove tags from an own Item or Folder", tagTags), session, s.tagsHandler(aimg.TagRemove))
	register(s, post("setTagsForItem", "Replace the tags of an own Item or Folder", tagTags), session, s.setTagsForItem)

	// Technical: files, pgQuery, logs, ads
	register(s, post("uploadFile", "Upload a file (admin)", tagTechnical, imageBody, bodyReadTimeout(10*time.Minute)), admin, s.uploadFile)
	register(s, get("getFile", "Get a file (public)", tagTechnical, described(getFileDoc), binaryResponse), anyone, s.getFile)
	register(s, get("getFileMetadata", "Get a file's metadata (admin)", tagTechnical), admin, s.getFileMetadata)
	register(s, del("removeFile", "Remove a file (admin)", tagTechnical), admin, s.removeFile)
	register(s, post("pgQuery", "Run an SQL statement (admin)", tagTechnical, described(s.pgQueryDoc())), admin, s.pgQuery)
	register(s, post("ingestLogs", "Ingest front-end logs", tagTechnical), session, s.ingestLogs)
	register(s, get("getAffiliateAd", "Get an affiliate ad to show", tagTechnical), anyone, s.getAffiliateAd)
}

// Tags group the operations in the OpenAPI document as the spec does.
const (
	tagUsers         = "User Management"
	tagPremium       = "Premium Membership Management"
	tagGeneration    = "Image Generation"
	tagImages        = "Image Management"
	tagFolders       = "Private Folder Management"
	tagPublicFolders = "Public Folder Management"
	tagCommonFolders = "Common Folder Management"
	tagTags          = "Tags Management"
	tagTechnical     = "Technical"
	tagAPI2Users     = "API2: User Management"
	tagAPI2Workflows = "API2: Workflows"
)

// opOption adjusts an operation beyond its method, name and summary.
type opOption func(s *Server, op *huma.Operation)

func get(name, summary, tag string, opts ...opOption) opSpec {
	return opSpec{http.MethodGet, name, summary, tag, opts}
}
func post(name, summary, tag string, opts ...opOption) opSpec {
	return opSpec{http.MethodPost, name, summary, tag, opts}
}
func del(name, summary, tag string, opts ...opOption) opSpec {
	return opSpec{http.MethodDelete, name, summary, tag, opts}
}

// opSpec is one row's operation before it is built against the config.
type opSpec struct {
	method, name, summary, tag string
	opts                       []opOption
}

// imageBody lets the body carry an image (a data URI or an upload).
func imageBody(s *Server, op *huma.Operation) {
	op.MaxBodyBytes = s.Config.Service.HTTP.MaxImageBodyBytes
}

func bodyReadTimeout(d time.Duration) opOption {
	return func(_ *Server, op *huma.Operation) { op.BodyReadTimeout = d }
}

func described(doc string) opOption {
	return func(_ *Server, op *huma.Operation) { op.Description = doc }
}

// binaryResponse documents a 200 that is the file's bytes, not an envelope.
func binaryResponse(_ *Server, op *huma.Operation) {
	op.Responses = map[string]*huma.Response{"200": {
		Description: "The file's bytes.",
		Content:     map[string]*huma.MediaType{"application/octet-stream": {Schema: &huma.Schema{Type: "string", Format: "binary"}}},
	}}
}

func (s *Server) build(spec opSpec) huma.Operation {
	op := huma.Operation{
		OperationID:  spec.name,
		Method:       spec.method,
		Path:         "/api/" + spec.name,
		Summary:      spec.summary,
		Tags:         []string{spec.tag},
		MaxBodyBytes: s.Config.Service.HTTP.MaxBodyBytes,
	}
	for _, o := range spec.opts {
		o(s, &op)
	}
	return op
}
