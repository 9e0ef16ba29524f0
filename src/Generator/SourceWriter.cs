using System.Text;
using Microsoft.CodeAnalysis.CSharp;

namespace Compose.Generator;

/// <summary>A small indented text writer for generated source; lines end with '\n' on every platform.</summary>
internal sealed class SourceWriter
{
    private readonly StringBuilder _builder = new();
    private int _indent;

    /// <summary>Creates a writer whose lines start at <paramref name="indent"/> levels of four spaces.</summary>
    /// <param name="indent">The indentation of the first line, in levels.</param>
    public SourceWriter(int indent = 0) => _indent = indent;

    public SourceWriter Line(string text = "")
    {
        if (text.Length > 0)
        {
            _builder.Append(' ', _indent * 4);
        }

        _builder.Append(text).Append('\n');
        return this;
    }

    public SourceWriter Open(string text)
    {
        Line(text);
        Line("{");
        _indent++;
        return this;
    }

    public SourceWriter Close(string suffix = "")
    {
        _indent--;
        return Line("}" + suffix);
    }

    public SourceWriter Indent()
    {
        _indent++;
        return this;
    }

    public SourceWriter Outdent()
    {
        _indent--;
        return this;
    }

    public override string ToString() => _builder.ToString();

    /// <summary>A C# string literal, or <c>null</c>.</summary>
    public static string Literal(string? value)
        => value is null ? "null" : SymbolDisplay.FormatLiteral(value, quote: true);
}
