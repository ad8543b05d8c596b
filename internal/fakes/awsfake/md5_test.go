package awsfake

import "testing"

// TestMD5OfAttributesKnownDigests checks the attribute digest against values
// published by independent SQS implementations.
func TestMD5OfAttributesKnownDigests(t *testing.T) {
	cases := []struct {
		attrs map[string]MessageAttribute
		want  string
	}{
		{map[string]MessageAttribute{"timestamp": {DataType: "Number", StringValue: "1493147359900"}}, "235c5c510d26fb653d073faed50ae77c"},
		{map[string]MessageAttribute{"SellerName": {DataType: "String", StringValue: "Example Store"}}, "cd28f3b68aeee4b2eac9c66f2f694b58"},
	}
	for _, c := range cases {
		if got := md5OfAttributes(c.attrs); got != c.want {
			t.Fatalf("md5OfAttributes(%v): got %s, want %s", c.attrs, got, c.want)
		}
	}
	if got := md5Hex(""); got != "d41d8cd98f00b204e9800998ecf8427e" {
		t.Fatalf("md5Hex(\"\"): got %s, want %s", got, "d41d8cd98f00b204e9800998ecf8427e")
	}
}
