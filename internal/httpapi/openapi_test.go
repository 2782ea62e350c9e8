package httpapi_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"aimg/internal/testsupport"
)

// Every AIMG endpoint that exists is in the generated OpenAPI document, with
// the method the spec gives it.
func TestOpenAPIListsEveryEndpoint(t *testing.T) {
	srv := testsupport.NewServer(t, "")
	resp, err := http.Get(srv.URL + "/api/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		// User Management and Technical (issue 2)
		"createUser": "post", "authenticateUser": "post", "signOutUser": "post", "requestOTP": "post",
		"getSelfUser": "get", "setSelfUserProperties": "post", "setSelfUserProfilePicture": "post",
		"setProfilePictureBanned": "post", "setUserAdditionalInformation": "post", "getUserKVP": "get",
		"setUserKVP": "post", "deleteUserKVP": "delete", "getUser": "get", "generateStrongPassword": "get",
		"deleteUser": "delete", "setUserAbuseLevel": "post", "ingestLogs": "post", "getAffiliateAd": "get",
		// Generation, Items, Files (issue 3)
		"generateImage": "post", "generateVideo": "post", "getItemStatus": "get", "getModels": "get",
		"getQueuesLength": "get", "getSamplePrompts": "get", "getItem": "get", "getItemDetails": "get",
		"getLastCompletedItem": "get", "getMyCreations": "get", "getBatchItems": "get", "uploadFile": "post",
		"getFile": "get", "getFileMetadata": "get", "removeFile": "delete", "pgQuery": "post",
		// Reactions (issue 7)
		"likeItems": "post", "unlikeItems": "post", "dislikeItems": "post", "undislikeItems": "post",
		// Deleting, restoring, protecting (issue 7)
		"deleteItems": "delete", "restoreItems": "post", "setProtected": "post",
		// Public approval (issue 7)
		"setItemProperties": "post", "setPublicApprovalStatus": "post",
		// Reports (issue 7)
		"reportItems": "post", "getReports": "get", "closeReports": "post", "getReportQueues": "get",
		"downloadReportsForEpoch": "get",
		// Private Folders (issue 7)
		"getSelfFolders": "get", "createSelfFolder": "post", "setSelfFolderProperties": "post",
		"deleteSelfFolder": "delete", "addImagesToSelfFolder": "post", "removeImagesFromSelfFolder": "post",
		"addThumbnailImagesForSelfFolder": "post", "removeThumbnailImagesForSelfFolder": "post",
		"setThumbnailImagesForSelfFolder": "post",
		// Tags (issue 7)
		"getTagsList": "get", "addTagsToItem": "post", "removeTagsFromItem": "post", "setTagsForItem": "post",
		// Public Folders, moving between Folders (issue 7)
		"getPublicFolders": "get", "createPublicFolder": "post", "setPublicFolderProperties": "post",
		"deletePublicFolder": "delete", "addImagesToPublicFolder": "post", "removeImagesFromPublicFolder": "post",
		"addThumbnailImagesForPublicFolder": "post", "removeThumbnailImagesForPublicFolder": "post",
		"setThumbnailImagesForPublicFolder": "post", "moveItemsBetweenFolders": "post",
		// The public side and the Admin's library tools (issue 7)
		"getPublicCreations": "get", "getLatestItems": "get", "getSampleItems": "get", "getItems": "get",
		"migrateLibrary": "post",
		// Premium Membership Management (issue 8)
		"getBillingPlans": "get", "createBillingPlan": "post", "cancelMembership": "delete",
		"setAdminProvidedPremiumTier": "post", "payWithCardEmail": "post", "redeemGiftCard": "post",
		"downloadGiftCards": "get", "processCardSubscription": "post",
		// Payments beyond the spec: Stripe Checkout and the providers' webhooks (docs/payments.md)
		"createStripeCheckout": "post", "payments/stripe/webhook": "post", "payments/arkpay/webhook": "post",
		// App passwords for HTTP Basic on the OCS surface (issue 10)
		"createAppPassword": "post", "getAppPasswords": "get", "revokeAppPassword": "post",
		// Remote workers' keys (issue 9)
		"createWorkerKey": "post", "getWorkerKeys": "get", "revokeWorkerKey": "post",
		// API2 (issue 9), at /api/2/...
		"2/getUserSession": "get", "2/getAggregatedWorkflowTemplates": "get", "2/getFileGroupItems": "get",
		"2/getWorkflowStatus": "get", "2/enqueueWorkflow": "post",
		// Cancel and live progress (issue 9)
		"cancelGeneration": "post", "getItemEvents": "get",
		// Boosty (issue 8): the spec's cookie injection and the claim (beyond the spec)
		"injectBoostyAdminAccountCookies": "post", "checkBoostySubscription": "post",
		// External Login Providers (issue 8): the start and the provider's return (both 302)
		"auth/{loginProvider}": "post", "auth/{loginProvider}/callback": "get",
	}
	for name, method := range want {
		ops, ok := doc.Paths["/api/"+name]
		if !ok {
			t.Errorf("/api/%s is missing from the OpenAPI document", name)
			continue
		}
		if _, ok := ops[method]; !ok {
			t.Errorf("/api/%s has no %s operation (has %v)", name, method, keys(ops))
		}
	}
	if len(doc.Paths) != len(want) {
		t.Errorf("the document has %d paths, the test knows %d: add new endpoints to this list", len(doc.Paths), len(want))
	}
}

func keys(m map[string]json.RawMessage) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	return k
}
