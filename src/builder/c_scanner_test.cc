// The comment and string scanner (c_scanner.h), and its three users on the lines where their
// own scanners used to disagree: a directive's continuation lines, a comment opened on a
// directive line, and a changed code line that starts with '*'.
#include <gtest/gtest.h>

#include "builder/c_scanner.h"
#include "builder/header_index.h"
#include "builder/header_macro.h"
#include "builder/header_units.h"

namespace noreboot::builder {
namespace {

std::vector<std::string> codes(const std::vector<std::string>& text) {
  std::vector<std::string> out;
  for (const auto& l : code_lines(text)) out.push_back(l.code);
  return out;
}

std::vector<bool> directives(const std::vector<std::string>& text) {
  std::vector<bool> out;
  for (const auto& l : code_lines(text)) out.push_back(l.directive);
  return out;
}

TEST(CScanner, BlanksCommentsAndLiteralContentsKeepingLengthAndQuotes) {
  auto c = codes({"int a; /* { */ int b; // }", "char s[] = \"}{\\\"\";", "char q = '{';", "x = '\\'';"});
  EXPECT_EQ(c[0], "int a;         int b;     ");
  EXPECT_EQ(c[1], "char s[] = \"    \";");
  EXPECT_EQ(c[2], "char q = ' ';");
  EXPECT_EQ(c[3], "x = '  ';");
}

TEST(CScanner, BlockCommentsSpanLinesAndLineCommentsContinueWithABackslash) {
  auto l = code_lines({"a /* one", " * struct s {", " */ b", "// c \\", "still a comment {", "d"});
  EXPECT_TRUE(l[0].has_code());
  EXPECT_FALSE(l[1].has_code());  // starts with '*' but is a comment: no code
  EXPECT_EQ(l[2].code, "    b");
  EXPECT_FALSE(l[3].has_code());
  EXPECT_FALSE(l[4].has_code());
  EXPECT_EQ(l[5].code, "d");
}

TEST(CScanner, ADirectiveRunsThroughItsContinuationsAndTheCommentsItOpens) {
  EXPECT_EQ(directives({"#define BEGIN \\", "\t{", "int x;"}), (std::vector<bool>{true, true, false}));
  EXPECT_EQ(directives({"  #  if X", "int x;"}), (std::vector<bool>{true, false}));
  // A comment opened on a directive line belongs to it until it closes and the line ends.
  EXPECT_EQ(directives({"#define X 1 /* spans", "  struct s { */ int y;", "int z;"}),
            (std::vector<bool>{true, true, false}));
  // Comments before '#' do not stop a directive; code before it does; '#' in a comment is not one.
  EXPECT_EQ(directives({"/* c */ # define A", "int a; /* x", "*/ #define B", "/*", "#define C */ int c;"}),
            (std::vector<bool>{true, false, false, false, false}));
  // An apostrophe in #error text ends at its line: the next line is code again.
  auto l = code_lines({"#error don't", "int { x;"});
  EXPECT_EQ(l[1].code, "int { x;");
  EXPECT_FALSE(l[1].directive);
  // A string literal continued by a backslash-newline.
  EXPECT_EQ(codes({"s = \"a{ \\", "b} \";"})[1], "   \";");
}

// function_span used to count the braces of a #define's continuation lines as the function's.
TEST(CScanner, FunctionSpanIgnoresTheBracesOfAMultiLineDefineInsideTheBody) {
  std::vector<std::string> h = {
      "static inline int f(int x)",  // 1
      "{",                           // 2
      "#define OPEN_BLOCK \\",       // 3
      "\t{",                         // 4 part of the macro: not a brace of f
      "\treturn x; /* } */",         // 5
      "}",                           // 6
      "int after;",                  // 7
  };
  auto s = function_span(h, "f", 1);
  EXPECT_EQ(s.first, 1);
  EXPECT_EQ(s.last, 6);
  // A comment at the end of the return-type line does not end the previous item there.
  std::vector<std::string> g = {"int before;", "static inline int /* hot */", "g(void)", "{", "\treturn 0;", "}"};
  auto t = function_span(g, "g", 3);
  EXPECT_EQ(t.first, 2);
  EXPECT_EQ(t.last, 6);
}

// type_spans used to skip directive lines without following a comment they opened.
TEST(CScanner, TypeSpansFollowACommentOpenedOnADirectiveLine) {
  std::vector<std::string> h = {
      "#define X 1 /* a comment that",     // 1
      "   mentions struct foo { int a; } */",  // 2
      "struct bar {",                       // 3
      "\tint b;",                           // 4
      "};",                                 // 5
  };
  auto t = type_spans(h);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].name, "struct bar");
  EXPECT_EQ(t[0].first, 3);
  EXPECT_EQ(t[0].last, 5);
}

// changed_lines used to take a line starting with '*' for a comment: a changed macro body line
// `*(p) = 0;` was "comments only", and the units it reaches were never found.
TEST(CScanner, AChangedCodeLineStartingWithAStarIsNotAComment) {
  std::vector<std::string> a = {"#define CLEAR(p) do { \\", "\t*(p) = 0; \\", "} while (0)"};
  std::vector<std::string> b = {"#define CLEAR(p) do { \\", "\t*(p) = 1; \\", "} while (0)"};
  auto c = changed_lines(a, b);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].first, 2);
  EXPECT_FALSE(c[0].only_comments);
  // A comment's own lines starting with '*' are still comments only.
  auto d = changed_lines({"/*", " * old", " */", "int x;"}, {"/*", " * new", " */", "int x;"});
  ASSERT_EQ(d.size(), 1u);
  EXPECT_TRUE(d[0].only_comments);
  // Unchanged text whose meaning changed: a new "/*" comments out the code below it.
  auto e = changed_lines({"int x;", "#define A 1", "int y; */"}, {"int x; /*", "#define A 1", "int y; */"});
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].first, 1);
  EXPECT_EQ(e[0].last, 3);
  EXPECT_FALSE(e[0].only_comments);
}

}  // namespace
}  // namespace noreboot::builder
