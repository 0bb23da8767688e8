// SPDX-License-Identifier: GPL-2.0
/* The strict TOML 1.0 parser: every value form, the table rules, and rejections with positions. */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "load.h"
#include "toml.h"

static char err[512];

static struct toml_node *parse(const char *s)
{
	return toml_parse("t.toml", s, strlen(s), err, sizeof(err));
}

/* Follow a dotted path of plain keys (no quoting) from the root. */
static const struct toml_node *at(const struct toml_node *t, const char *path)
{
	char buf[256], *save = NULL, *k;

	snprintf(buf, sizeof(buf), "%s", path);
	for (k = strtok_r(buf, ".", &save); k && t; k = strtok_r(NULL, ".", &save))
		t = toml_get(t, k);
	return t;
}

static const struct toml_node *nth(const struct toml_node *a, size_t i)
{
	const struct toml_node *e = a ? a->child : NULL;

	while (e && i--)
		e = e->next;
	return e;
}

TEST(integers)
{
	struct toml_node *r = parse(
		"a = 42\nb = +17\nc = -17\nd = 0\ne = +0\nf = -0\n"
		"g = 1_000_000\nh = 5_349_221\ni = 0xDEADbeef\nj = 0o755\nk = 0b1101_0110\n"
		"l = 9223372036854775807\nm = -9223372036854775808\nn = 0x7fff_ffff_ffff_ffff\n"
		"o = 0x00ff\n");
	static const struct { const char *k; long long v; } want[] = {
		{ "a", 42 }, { "b", 17 }, { "c", -17 }, { "d", 0 }, { "e", 0 }, { "f", 0 },
		{ "g", 1000000 }, { "h", 5349221 }, { "i", 0xdeadbeef }, { "j", 0755 },
		{ "k", 0xd6 }, { "l", 9223372036854775807LL },
		{ "m", -9223372036854775807LL - 1 }, { "n", 0x7fffffffffffffffLL },
		{ "o", 255 },
	};

	ASSERT_NE(NULL, r) TH_LOG("%s", err);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct toml_node *v = toml_get(r, want[i].k);

		ASSERT_NE(NULL, v);
		EXPECT_EQ(TOML_INT, v->type);
		EXPECT_EQ(want[i].v, v->i) TH_LOG("key %s", want[i].k);
	}
	EXPECT_EQ(15, r->count);
	toml_free(r);
}

TEST(floats)
{
	struct toml_node *r = parse(
		"a = +1.0\nb = 3.1415\nc = -0.01\nd = 5e+22\ne = 1e06\nf = -2E-2\n"
		"g = 6.626e-34\nh = 224_617.445_991_228\ni = inf\nj = +inf\nk = -inf\n"
		"l = nan\nm = +nan\nn = -nan\no = 0.0\np = -0.0\nq = 0e0\nr = 1_0.5e1_0\n");
	const struct toml_node *v;

	ASSERT_NE(NULL, r) TH_LOG("%s", err);
	for (v = r->child; v; v = v->next)
		EXPECT_EQ(TOML_FLOAT, v->type) TH_LOG("key %s", v->key);
	EXPECT_EQ(1.0, toml_get(r, "a")->f);
	EXPECT_EQ(3.1415, toml_get(r, "b")->f);
	EXPECT_EQ(-0.01, toml_get(r, "c")->f);
	EXPECT_EQ(5e22, toml_get(r, "d")->f);
	EXPECT_EQ(1e6, toml_get(r, "e")->f);
	EXPECT_EQ(-2e-2, toml_get(r, "f")->f);
	EXPECT_EQ(6.626e-34, toml_get(r, "g")->f);
	EXPECT_EQ(224617.445991228, toml_get(r, "h")->f);
	EXPECT_TRUE(isinf(toml_get(r, "i")->f) && toml_get(r, "i")->f > 0);
	EXPECT_TRUE(isinf(toml_get(r, "j")->f) && toml_get(r, "j")->f > 0);
	EXPECT_TRUE(isinf(toml_get(r, "k")->f) && toml_get(r, "k")->f < 0);
	EXPECT_TRUE(isnan(toml_get(r, "l")->f));
	EXPECT_TRUE(isnan(toml_get(r, "m")->f));
	EXPECT_TRUE(isnan(toml_get(r, "n")->f));
	EXPECT_TRUE(signbit(toml_get(r, "p")->f));
	EXPECT_EQ(0.0, toml_get(r, "q")->f);
	EXPECT_EQ(10.5e10, toml_get(r, "r")->f);
	toml_free(r);
}

TEST(booleans_and_comments)
{
	struct toml_node *r = parse("# leading comment\n  t = true # trailing\n\tf = false\n"
				    "#last line without newline");

	ASSERT_NE(NULL, r) TH_LOG("%s", err);
	EXPECT_EQ(TOML_BOOL, toml_get(r, "t")->type);
	EXPECT_TRUE(toml_get(r, "t")->b);
	EXPECT_FALSE(toml_get(r, "f")->b);
	EXPECT_EQ(2, r->count);
	toml_free(r);
}

TEST(basic_strings_and_escapes)
{
	struct toml_node *r = parse(
		"a = \"plain\"\n"
		"b = \"\\b\\t\\n\\f\\r\\\"\\\\\"\n"
		"c = \"\\u00e9\\u20AC\\U0001F600\"\n"
		"d = \"tab\tinside\"\n"
		"e = \"\"\n"
		"f = \"nul\\u0000x\"\n"
		"g = \"caf\xc3\xa9 \xe2\x82\xac\"\n"
		"h = \"# not a comment\"\n");
	const struct toml_node *v;

	ASSERT_NE(NULL, r) TH_LOG("%s", err);
	EXPECT_STREQ("plain", toml_get(r, "a")->str);
	EXPECT_STREQ("\b\t\n\f\r\"\\", toml_get(r, "b")->str);
	EXPECT_STREQ("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", toml_get(r, "c")->str);
	EXPECT_STREQ("tab\tinside", toml_get(r, "d")->str);
	EXPECT_STREQ("", toml_get(r, "e")->str);
	EXPECT_EQ(0, toml_get(r, "e")->len);
	v = toml_get(r, "f");
	EXPECT_EQ(5, v->len);
	EXPECT_EQ(0, memcmp(v->str, "nul\0x", 6));
	EXPECT_STREQ("caf\xc3\xa9 \xe2\x82\xac", toml_get(r, "g")->str);
	EXPECT_STREQ("# not a comment", toml_get(r, "h")->str);
	toml_free(r);
}

TEST(literal_and_multiline_strings)
{
	struct toml_node *r = parse(
		"a = 'C:\\Users\\nodejs\\templates'\n"
		"b = '<\\i\\c*\\s*>'\n"
		"c = \"\"\"\nRoses are red\nViolets are blue\"\"\"\n"
		"d = \"\"\"\nThe quick brown \\\n\n\n  fox jumps over \\\n    the lazy dog.\"\"\"\n"
		"e = \"\"\"\\\n       The quick brown \\\t \n       fox.\\\n       \"\"\"\n"
		"f = \"\"\"Here are two quotation marks: \"\". Simple enough.\"\"\"\n"
		"g = \"\"\"Here are three quotation marks: \"\"\\\".\"\"\"\n"
		"h = \"\"\"\"This,\" she said, \"is just a pointless statement.\"\"\"\"\n"
		"i = '''\nThe first newline is\ntrimmed in raw strings.\n   All other whitespace\n"
		"   is preserved.\n'''\n"
		"j = '''I [dw]on't need \\d{2} apples'''\n"
		"k = ''''That,' she said, 'is still pointless.''''\n"
		"l = '''Here are fifteen quotation marks: \"\"\"\"\"\"\"\"\"\"\"\"\"\"\"'''\n"
		"m = \"\"\"a\r\nb\"\"\"\n"
		"n = \"\"\"x\"\"\"\"\"\n"
		"o = ''''''\n");

	ASSERT_NE(NULL, r) TH_LOG("%s", err);
	EXPECT_STREQ("C:\\Users\\nodejs\\templates", toml_get(r, "a")->str);
	EXPECT_STREQ("<\\i\\c*\\s*>", toml_get(r, "b")->str);
	EXPECT_STREQ("Roses are red\nViolets are blue", toml_get(r, "c")->str);
	EXPECT_STREQ("The quick brown fox jumps over the lazy dog.", toml_get(r, "d")->str);
	EXPECT_STREQ("The quick brown fox.", toml_get(r, "e")->str);
	EXPECT_STREQ("Here are two quotation marks: \"\". Simple enough.",
		     toml_get(r, "f")->str);
	EXPECT_STREQ("Here are three quotation marks: \"\"\".", toml_get(r, "g")->str);
	EXPECT_STREQ("\"This,\" she said, \"is just a pointless statement.\"",
		     toml_get(r, "h")->str);
	EXPECT_STREQ("The first newline is\ntrimmed in raw strings.\n   All other whitespace\n"
		     "   is preserved.\n", toml_get(r, "i")->str);
	EXPECT_STREQ("I [dw]on't need \\d{2} apples", toml_get(r, "j")->str);
	EXPECT_STREQ("'That,' she said, 'is still pointless.'", toml_get(r, "k")->str);
	EXPECT_STREQ("Here are fifteen quotation marks: \"\"\"\"\"\"\"\"\"\"\"\"\"\"\"",
		     toml_get(r, "l")->str);
	EXPECT_STREQ("a\nb", toml_get(r, "m")->str);
	EXPECT_STREQ("x\"\"", toml_get(r, "n")->str);
	EXPECT_STREQ("", toml_get(r, "o")->str);
	toml_free(r);
}

TEST(keys_bare_quoted_dotted)
{
	struct toml_node *r = parse(
		"key = 1\nbare_key = 2\nbare-key = 3\n1234 = 4\n"
		"\"127.0.0.1\" = 5\n\"character encoding\" = 6\n'key2' = 7\n"
		"\"\" = 8\n"
		"physical.color = \"orange\"\nphysical . shape = \"round\"\n"
		"site.\"google.com\" = true\n3.14159 = \"pi\"\n"
		"\"\\u00e9\" = 9\n");
	const struct toml_node *v;

	ASSERT_NE(NULL, r) TH_LOG("%s", err);
	EXPECT_EQ(4, toml_get(r, "1234")->i);
	EXPECT_EQ(5, toml_get(r, "127.0.0.1")->i);
	EXPECT_EQ(6, toml_get(r, "character encoding")->i);
	EXPECT_EQ(7, toml_get(r, "key2")->i);
	EXPECT_EQ(8, toml_get(r, "")->i);
	EXPECT_STREQ("orange", at(r, "physical.color")->str);
	EXPECT_STREQ("round", at(r, "physical.shape")->str);
	v = toml_get(toml_get(r, "site"), "google.com");
	ASSERT_NE(NULL, v);
	EXPECT_TRUE(v->b);
	EXPECT_STREQ("pi", at(r, "3.14159")->str);
	EXPECT_EQ(9, toml_get(r, "\xc3\xa9")->i);
	toml_free(r);
}

TEST(tables_and_arrays_of_tables)
{
	struct toml_node *r = parse(
		"[table-1]\nkey1 = \"some string\"\n\n"
		"[ dog . \"tater.man\" ]\ntype.name = \"pug\"\n"
		"[x.y.z.w]\n[x]\n"
		"[fruit]\napple.color = \"red\"\napple.taste.sweet = true\n"
		"[fruit.apple.texture]\nsmooth = true\n"
		"[[products]]\nname = \"Hammer\"\nsku = 738594937\n\n[[products]]\n\n"
		"[[products]]\nname = \"Nail\"\n"
		"[[fruits]]\nname = \"apple\"\n[fruits.physical]\ncolor = \"red\"\n"
		"[[fruits.varieties]]\nname = \"red delicious\"\n"
		"[[fruits.varieties]]\nname = \"granny\"\n"
		"[[fruits]]\nname = \"banana\"\n[[fruits.varieties]]\nname = \"plantain\"\n");
	const struct toml_node *p, *f, *v;

	ASSERT_NE(NULL, r) TH_LOG("%s", err);
	EXPECT_STREQ("some string", at(r, "table-1.key1")->str);
	v = toml_get(toml_get(r, "dog"), "tater.man");
	EXPECT_STREQ("pug", toml_get(v, "type")->child->str);
	EXPECT_NE(NULL, at(r, "x.y.z.w"));
	EXPECT_TRUE(at(r, "fruit.apple.taste.sweet")->b);
	EXPECT_TRUE(at(r, "fruit.apple.texture.smooth")->b);
	p = toml_get(r, "products");
	ASSERT_EQ(TOML_ARRAY, p->type);
	ASSERT_EQ(3, p->count);
	EXPECT_STREQ("Hammer", toml_get(nth(p, 0), "name")->str);
	EXPECT_EQ(0, nth(p, 1)->count);
	EXPECT_STREQ("Nail", toml_get(nth(p, 2), "name")->str);
	/* Headers record where they start. */
	EXPECT_EQ(19, nth(p, 2)->line);
	EXPECT_EQ(1, nth(p, 2)->col);
	f = toml_get(r, "fruits");
	ASSERT_EQ(2, f->count);
	EXPECT_STREQ("red", at(nth(f, 0), "physical.color")->str);
	EXPECT_EQ(2, toml_get(nth(f, 0), "varieties")->count);
	EXPECT_STREQ("granny", toml_get(nth(toml_get(nth(f, 0), "varieties"), 1), "name")->str);
	EXPECT_STREQ("plantain", toml_get(nth(toml_get(nth(f, 1), "varieties"), 0), "name")->str);
	toml_free(r);
}

TEST(arrays_and_inline_tables)
{
	struct toml_node *r = parse(
		"integers = [ 1, 2, 3 ]\ncolors = [ \"red\", \"yellow\", \"green\" ]\n"
		"nested = [ [ 1, 2 ], [3, 4, 5] ]\n"
		"mixed = [ 0.1, 0.2, 'x', { x = 1 }, [], true ]\n"
		"multi = [\n  1, # one\n  2,\n  # comment line\n  3,\n]\n"
		"empty = [ ]\n"
		"name = { first = \"Tom\", last = \"Preston-Werner\" }\n"
		"point = {x=1,y=2}\n"
		"animal = { type.name = \"pug\" }\n"
		"e = {}\n"
		"deep = { a = { b = { c = [1] } } }\n"
		"ml = { s = \"\"\"a\nb\"\"\" }\n");
	const struct toml_node *v;

	ASSERT_NE(NULL, r) TH_LOG("%s", err);
	EXPECT_EQ(3, toml_get(r, "integers")->count);
	EXPECT_EQ(3, nth(toml_get(r, "integers"), 2)->i);
	EXPECT_STREQ("green", nth(toml_get(r, "colors"), 2)->str);
	EXPECT_EQ(5, nth(nth(toml_get(r, "nested"), 1), 2)->i);
	v = toml_get(r, "mixed");
	EXPECT_EQ(6, v->count);
	EXPECT_EQ(TOML_FLOAT, nth(v, 0)->type);
	EXPECT_EQ(TOML_STRING, nth(v, 2)->type);
	EXPECT_EQ(TOML_TABLE, nth(v, 3)->type);
	EXPECT_EQ(TOML_ARRAY, nth(v, 4)->type);
	EXPECT_EQ(TOML_BOOL, nth(v, 5)->type);
	EXPECT_EQ(3, toml_get(r, "multi")->count);
	/* Array elements record their own position. */
	EXPECT_EQ(7, nth(toml_get(r, "multi"), 1)->line);
	EXPECT_EQ(3, nth(toml_get(r, "multi"), 1)->col);
	EXPECT_EQ(0, toml_get(r, "empty")->count);
	EXPECT_STREQ("Preston-Werner", at(r, "name.last")->str);
	EXPECT_EQ(2, at(r, "point.y")->i);
	EXPECT_STREQ("pug", at(r, "animal.type.name")->str);
	EXPECT_EQ(0, toml_get(r, "e")->count);
	EXPECT_EQ(1, at(r, "deep.a.b.c")->child->i);
	EXPECT_STREQ("a\nb", at(r, "ml.s")->str);
	toml_free(r);
}

TEST(positions_of_keys_and_values)
{
	struct toml_node *r = parse("# c\n\n  [srv]\n  listen   =  \"x\"\n"
				    "\"\xc3\xa9\xc3\xa9\" = 1\n");
	const struct toml_node *s, *l;

	ASSERT_NE(NULL, r) TH_LOG("%s", err);
	s = toml_get(r, "srv");
	EXPECT_EQ(3, s->line);
	EXPECT_EQ(3, s->col);
	EXPECT_EQ(3, s->key_line);
	EXPECT_EQ(4, s->key_col);
	l = toml_get(s, "listen");
	EXPECT_EQ(4, l->key_line);
	EXPECT_EQ(3, l->key_col);
	EXPECT_EQ(4, l->line);
	EXPECT_EQ(15, l->col);
	/* Columns count characters, not bytes. */
	l = toml_get(s, "\xc3\xa9\xc3\xa9");
	ASSERT_NE(NULL, l);
	EXPECT_EQ(5, l->line);
	EXPECT_EQ(8, l->col);
	toml_free(r);
}

TEST(crlf_and_bom)
{
	struct toml_node *r = parse("\xef\xbb\xbf" "a = 1\r\n[t]\r\nb = 'x' # c\r\n");

	ASSERT_NE(NULL, r) TH_LOG("%s", err);
	EXPECT_EQ(1, toml_get(r, "a")->i);
	EXPECT_STREQ("x", at(r, "t.b")->str);
	EXPECT_EQ(3, at(r, "t.b")->line);
	toml_free(r);
}

/* Each invalid document and the exact position and message it must report. */
static const struct {
	const char *doc;
	const char *want;
} rejects[] = {
	/* duplicate keys and redefinitions */
	{ "a = 1\na = 2\n", "t.toml:2:1: duplicate key 'a' (first defined at 1:1)" },
	{ "a = 1\n\"a\" = 2\n", "t.toml:2:1: duplicate key 'a' (first defined at 1:1)" },
	{ "a.b = 1\na.b = 2\n", "t.toml:2:3: duplicate key 'b' (first defined at 1:3)" },
	{ "a = 1\na.b = 2\n", "t.toml:2:1: cannot add keys to 'a' (defined at 1:1)" },
	{ "[a]\n[a]\n", "t.toml:2:2: 'a' is already defined at 1:2" },
	{ "[a]\nb = 1\n[a.b]\n", "t.toml:3:4: 'b' is already defined at 2:1" },
	{ "[a.b]\n[a]\n[a]\n", "t.toml:3:2: 'a' is already defined at 1:2" },
	{ "a.b = 1\n[a]\n", "t.toml:2:2: 'a' is already defined at 1:1" },
	{ "[fruit]\napple.color = 1\n[fruit.apple]\n",
	  "t.toml:3:8: 'apple' is already defined at 2:1" },
	{ "[a.b]\n[a]\nb.c = 1\n", "t.toml:3:1: cannot add keys to 'b' (defined at 1:4)" },
	{ "[a.b.c]\n[a]\nb.d = 1\n", "t.toml:3:1: cannot add keys to 'b' (defined at 1:4)" },
	{ "[a.b.c]\nz = 9\n[a]\nb.c.t = 9\n",
	  "t.toml:4:1: cannot add keys to 'b' (defined at 1:4)" },
	{ "[a]\n[x]\n[a]\n", "t.toml:3:2: 'a' is already defined at 1:2" },
	/* inline tables and static arrays are sealed */
	{ "a = {b = 1}\na.c = 2\n", "t.toml:2:1: cannot add keys to 'a' (defined at 1:1)" },
	{ "a = {b = 1}\n[a]\n", "t.toml:2:2: 'a' is already defined at 1:1" },
	{ "a = {b = 1}\n[a.c]\n",
	  "t.toml:2:2: cannot add a table into 'a' (defined at 1:1 as an inline table)" },
	{ "a = {b = {c = 1}}\n[a.b.d]\n",
	  "t.toml:2:2: cannot add a table into 'a' (defined at 1:1 as an inline table)" },
	{ "a = {b = {}, b.c = 1}\n", "t.toml:1:14: cannot add keys to 'b' (defined at 1:6)" },
	{ "a = [1]\n[[a]]\n",
	  "t.toml:2:3: 'a' is already defined at 1:1 as a static array, not an array of tables" },
	{ "a = []\n[a.b]\n",
	  "t.toml:2:2: cannot add a table into 'a' (defined at 1:1 as a static array)" },
	{ "[[a]]\n[a]\n", "t.toml:2:2: 'a' is already defined at 1:3" },
	{ "a = 1\n[a.b]\n",
	  "t.toml:2:2: cannot add a table into 'a' (defined at 1:1 as an integer)" },
	{ "a = 'x'\n[[a]]\n",
	  "t.toml:2:3: 'a' is already defined at 1:1 as a string, not an array of tables" },
	{ "[a]\n[[a]]\n",
	  "t.toml:2:3: 'a' is already defined at 1:2 as a table, not an array of tables" },
	{ "a = {x = 1, x = 2}\n", "t.toml:1:13: duplicate key 'x' (first defined at 1:6)" },
	/* inline table syntax */
	{ "a = {x = 1,}\n", "t.toml:1:12: trailing comma not allowed in inline table" },
	{ "a = {x = 1\n}\n", "t.toml:1:11: newline not allowed in inline table" },
	{ "a = {\nx = 1}\n", "t.toml:1:6: newline not allowed in inline table" },
	{ "a = {x = 1 y = 2}\n", "t.toml:1:12: expected ',' or '}' in inline table" },
	{ "a = {x = 1", "t.toml:1:5: unterminated inline table" },
	/* arrays */
	{ "a = [1 2]\n", "t.toml:1:8: expected ',' or ']' in array" },
	{ "a = [1,,2]\n", "t.toml:1:8: invalid value" },
	{ "a = [1,\n", "t.toml:1:5: unterminated array" },
	{ "a = [,]\n", "t.toml:1:6: invalid value" },
	/* keys */
	{ "= 1\n", "t.toml:1:1: invalid character '=' in key" },
	{ "a b = 1\n", "t.toml:1:3: expected '=' after key 'a'" },
	{ "a\n", "t.toml:1:2: expected '=' after key 'a'" },
	{ "a. = 1\n", "t.toml:1:4: invalid character '=' in key" },
	{ "a = 1 b = 2\n", "t.toml:1:7: expected end of line" },
	{ "\"\"\"k\"\"\" = 1\n", "t.toml:1:1: multi-line string not allowed as a key" },
	{ "\"a\\u0000\" = 1\n", "t.toml:1:1: key contains U+0000" },
	{ "a = \n", "t.toml:1:5: expected a value" },
	{ "a = # c\n", "t.toml:1:5: expected a value" },
	{ "[a\n", "t.toml:1:3: expected ']' to close the table header" },
	{ "[[a]\n", "t.toml:1:4: expected ']]' to close the table header" },
	{ "[]\n", "t.toml:1:2: invalid character ']' in key" },
	{ "[a] b = 1\n", "t.toml:1:5: expected end of line" },
	/* strings */
	{ "a = \"abc\n", "t.toml:1:5: unterminated string" },
	{ "a = 'abc", "t.toml:1:5: unterminated string" },
	{ "a = \"\"\"abc", "t.toml:1:5: unterminated multi-line string" },
	{ "a = \"\\q\"\n", "t.toml:1:6: invalid escape sequence" },
	{ "a = \"\\e\"\n", "t.toml:1:6: invalid escape sequence" },
	{ "a = \"\\x41\"\n", "t.toml:1:6: invalid escape sequence" },
	{ "a = \"\\u12\"\n", "t.toml:1:6: \\u escape needs 4 hex digits" },
	{ "a = \"\\U0000004\"\n", "t.toml:1:6: \\U escape needs 8 hex digits" },
	{ "a = \"\\uD800\"\n", "t.toml:1:6: escape \\uD800 is not a Unicode scalar value" },
	{ "a = \"\\uDFFF\"\n", "t.toml:1:6: escape \\uDFFF is not a Unicode scalar value" },
	{ "a = \"\\U00110000\"\n",
	  "t.toml:1:6: escape \\U00110000 is not a Unicode scalar value" },
	{ "a = \"\"\"x\\ y\"\"\"\n", "t.toml:1:9: invalid escape sequence" },
	{ "a = \"\"\"x\"\"\"\"\"\"\n",
	  "t.toml:1:9: too many quotes at the end of a multi-line string" },
	{ "a = '''x''''''\n", "t.toml:1:9: too many quotes at the end of a multi-line string" },
	/* integers */
	{ "a = 01\n", "t.toml:1:5: leading zeros are not allowed" },
	{ "a = -01\n", "t.toml:1:5: leading zeros are not allowed" },
	{ "a = 1__0\n", "t.toml:1:5: invalid underscore in number" },
	{ "a = _1\n", "t.toml:1:5: invalid underscore in number" },
	{ "a = 1_\n", "t.toml:1:5: invalid underscore in number" },
	{ "a = +0x1\n", "t.toml:1:5: sign not allowed on hexadecimal integer" },
	{ "a = -0o7\n", "t.toml:1:5: sign not allowed on octal integer" },
	{ "a = 0x\n", "t.toml:1:5: invalid hexadecimal integer" },
	{ "a = 0xg\n", "t.toml:1:5: invalid hexadecimal integer" },
	{ "a = 0o8\n", "t.toml:1:5: invalid octal integer" },
	{ "a = 0b2\n", "t.toml:1:5: invalid binary integer" },
	{ "a = 0x_1\n", "t.toml:1:5: invalid hexadecimal integer" },
	{ "a = 0X1\n", "t.toml:1:5: invalid value" },
	{ "a = 9223372036854775808\n", "t.toml:1:5: integer out of range" },
	{ "a = -9223372036854775809\n", "t.toml:1:5: integer out of range" },
	{ "a = 0x8000000000000000\n", "t.toml:1:5: integer out of range" },
	{ "a = 0b1_0000000000000000000000000000000000000000000000000000000000000000\n",
	  "t.toml:1:5: integer out of range" },
	/* floats */
	{ "a = 1.\n", "t.toml:1:5: a decimal point must be followed by digits" },
	{ "a = .5\n", "t.toml:1:5: invalid value" },
	{ "a = 1.e5\n", "t.toml:1:5: a decimal point must be followed by digits" },
	{ "a = 1e\n", "t.toml:1:5: invalid exponent" },
	{ "a = 1e_5\n", "t.toml:1:5: invalid exponent" },
	{ "a = 1.5_\n", "t.toml:1:5: a decimal point must be followed by digits" },
	{ "a = 03.14\n", "t.toml:1:5: leading zeros are not allowed" },
	{ "a = 1e400\n", "t.toml:1:5: float out of range" },
	{ "a = infinity\n", "t.toml:1:5: invalid value" },
	{ "a = Inf\n", "t.toml:1:5: invalid value" },
	{ "a = NaN\n", "t.toml:1:5: invalid value" },
	{ "a = 1.2.3\n", "t.toml:1:5: invalid value" },
	/* booleans and other bare words */
	{ "a = True\n", "t.toml:1:5: invalid value" },
	{ "a = truex\n", "t.toml:1:5: invalid value" },
	{ "a = yes\n", "t.toml:1:5: invalid value" },
	/* dates are not supported */
	{ "a = 1979-05-27T07:32:00Z\n", "t.toml:1:5: date and time values are not supported" },
	{ "a = 1979-05-27\n", "t.toml:1:5: date and time values are not supported" },
	{ "a = 07:32:00\n", "t.toml:1:5: date and time values are not supported" },
	/* raw text */
	{ "a = \"\x01\"\n", "t.toml:1:6: control character U+0001 not allowed" },
	{ "# \x7f\n", "t.toml:1:3: control character U+007F not allowed" },
	{ "a = 1\rb = 2\n", "t.toml:1:6: carriage return not followed by newline" },
	{ "\n\na = \"\xc3\"\n", "t.toml:3:6: invalid UTF-8" },
	{ "a = \"\xc0\xaf\"\n", "t.toml:1:6: invalid UTF-8" },
	{ "a = \"\xed\xa0\x80\"\n", "t.toml:1:6: invalid UTF-8" },
	{ "a = \"\xf4\x90\x80\x80\"\n", "t.toml:1:6: invalid UTF-8" },
	{ "# \xff\n", "t.toml:1:3: invalid UTF-8" },
	{ "\xc3\xa9 = 1\n", "t.toml:1:1: invalid character '?' in key" },
};

TEST(rejections_with_positions)
{
	for (size_t i = 0; i < sizeof(rejects) / sizeof(rejects[0]); i++) {
		struct toml_node *r = parse(rejects[i].doc);

		EXPECT_EQ(NULL, r) TH_LOG("accepted #%zu: %s", i, rejects[i].doc);
		toml_free(r);
		EXPECT_STREQ(rejects[i].want, err) TH_LOG("#%zu", i);
	}
}

TEST(embedded_nul_byte)
{
	static const char doc[] = "a = \"x\0y\"\n";
	struct toml_node *r = toml_parse("t.toml", doc, sizeof(doc) - 1, err, sizeof(err));

	EXPECT_EQ(NULL, r);
	EXPECT_STREQ("t.toml:1:7: control character U+0000 not allowed", err);
}

TEST(depth_and_size_limits)
{
	char *doc = malloc(TOML_MAX_INPUT + 2);
	struct toml_node *r;
	size_t n = 0;
	int i;

	ASSERT_NE(NULL, doc);
	/* Nesting exactly at the limit parses; one deeper does not. */
	n = (size_t)sprintf(doc, "a = ");
	for (i = 0; i < TOML_MAX_DEPTH - 1; i++)
		doc[n++] = '[';
	for (i = 0; i < TOML_MAX_DEPTH - 1; i++)
		doc[n++] = ']';
	r = toml_parse("t.toml", doc, n, err, sizeof(err));
	EXPECT_NE(NULL, r) TH_LOG("%s", err);
	toml_free(r);
	n = (size_t)sprintf(doc, "a = ");
	for (i = 0; i < TOML_MAX_DEPTH + 5; i++)
		doc[n++] = '[';
	r = toml_parse("t.toml", doc, n, err, sizeof(err));
	EXPECT_EQ(NULL, r);
	EXPECT_NE(NULL, strstr(err, "nested deeper than 64"));
	/* A dotted key as deep as the limit is refused too. */
	n = 0;
	for (i = 0; i < TOML_MAX_DEPTH + 1; i++)
		n += (size_t)sprintf(doc + n, "k.");
	n += (size_t)sprintf(doc + n, "k = 1\n");
	r = toml_parse("t.toml", doc, n, err, sizeof(err));
	EXPECT_EQ(NULL, r);
	EXPECT_NE(NULL, strstr(err, "key nested deeper than 64"));
	/* Input size. */
	memset(doc, '\n', TOML_MAX_INPUT + 1);
	r = toml_parse("t.toml", doc, TOML_MAX_INPUT, err, sizeof(err));
	EXPECT_NE(NULL, r) TH_LOG("%s", err);
	toml_free(r);
	r = toml_parse("t.toml", doc, TOML_MAX_INPUT + 1, err, sizeof(err));
	EXPECT_EQ(NULL, r);
	EXPECT_STREQ("t.toml:1:1: input larger than 1048576 bytes", err);
	free(doc);
}

TEST(entries_per_table_limit)
{
	size_t cap = (TOML_MAX_ENTRIES + 1) * 12, n = 0;
	char *doc = malloc(cap);
	struct toml_node *r;

	ASSERT_NE(NULL, doc);
	for (int i = 0; i < TOML_MAX_ENTRIES; i++)
		n += (size_t)snprintf(doc + n, cap - n, "k%d = 1\n", i);
	r = toml_parse("t.toml", doc, n, err, sizeof(err));
	EXPECT_NE(NULL, r) TH_LOG("%s", err);
	toml_free(r);
	n += (size_t)snprintf(doc + n, cap - n, "last = 1\n");
	r = toml_parse("t.toml", doc, n, err, sizeof(err));
	EXPECT_EQ(NULL, r);
	EXPECT_STREQ("t.toml:4097:1: more than 4096 entries in one table", err);
	free(doc);
}

TEST(load_file)
{
	char path[] = "/tmp/test_toml_XXXXXX";
	int fd = mkstemp(path);
	struct toml_node *r;

	ASSERT_LE(0, fd);
	ASSERT_EQ(12, write(fd, "[a]\nb = 'c'\n", 12));
	close(fd);
	r = toml_load(path, err, sizeof(err));
	ASSERT_NE(NULL, r) TH_LOG("%s", err);
	EXPECT_STREQ("c", at(r, "a.b")->str);
	toml_free(r);
	fd = open(path, O_WRONLY | O_APPEND);
	ASSERT_LE(0, fd);
	ASSERT_EQ(6, write(fd, "b = 1\n", 6));
	close(fd);
	r = toml_load(path, err, sizeof(err));
	EXPECT_EQ(NULL, r);
	/* Errors in a file name the file. */
	EXPECT_EQ(0, strncmp(err, path, strlen(path)));
	EXPECT_STREQ(":3:1: duplicate key 'b' (first defined at 2:1)", err + strlen(path));
	unlink(path);
	r = toml_load(path, err, sizeof(err));
	EXPECT_EQ(NULL, r);
	EXPECT_NE(NULL, strstr(err, "No such file"));
	r = toml_load("/tmp", err, sizeof(err));
	EXPECT_EQ(NULL, r);
	EXPECT_NE(NULL, strstr(err, "not a regular file"));
}

TEST(type_names)
{
	EXPECT_STREQ("table", toml_type_name(TOML_TABLE));
	EXPECT_STREQ("array", toml_type_name(TOML_ARRAY));
	EXPECT_STREQ("string", toml_type_name(TOML_STRING));
	EXPECT_STREQ("integer", toml_type_name(TOML_INT));
	EXPECT_STREQ("float", toml_type_name(TOML_FLOAT));
	EXPECT_STREQ("boolean", toml_type_name(TOML_BOOL));
}

TEST_HARNESS_MAIN
