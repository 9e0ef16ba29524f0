using System.Collections.Immutable;
using System.Composition;
using Compose.Generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Formatting;
using Microsoft.CodeAnalysis.Simplification;

namespace Compose.CodeFixes;

/// <summary>CMP0004: adds <c>IServerPlugin</c> to the plugin class, with an <c>InitAsync</c> stub when it has none.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(MissingInterfaceCodeFix))]
[Shared]
public sealed class MissingInterfaceCodeFix : CodeFixProvider
{
    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticIds.MissingInterface);

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null)
        {
            return;
        }

        foreach (var diagnostic in context.Diagnostics)
        {
            var type = root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true).FirstAncestorOrSelf<TypeDeclarationSyntax>();
            if (type is not ClassDeclarationSyntax and not RecordDeclarationSyntax)
            {
                continue;
            }

            context.RegisterCodeFix(
                CodeAction.Create(
                    "Implement IServerPlugin",
                    cancellationToken => AddInterfaceAsync(context.Document, type, cancellationToken),
                    equivalenceKey: DiagnosticIds.MissingInterface),
                diagnostic);
        }
    }

    private static async Task<Document> AddInterfaceAsync(Document document, TypeDeclarationSyntax type, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        if (root is null)
        {
            return document;
        }

        var interfaceType = SyntaxFactory.SimpleBaseType(SyntaxFactory.ParseTypeName("global::Compose.IServerPlugin").WithAdditionalAnnotations(Simplifier.Annotation));
        var updated = type.BaseList is null
            ? type.WithIdentifier(type.Identifier.WithTrailingTrivia())
                  .WithTypeParameterList(type.TypeParameterList)
                  .WithBaseList(SyntaxFactory.BaseList(SyntaxFactory.SingletonSeparatedList<BaseTypeSyntax>(interfaceType)).WithTrailingTrivia(type.Identifier.TrailingTrivia))
            : type.WithBaseList(type.BaseList.AddTypes(interfaceType));
        if (type.ParameterList is not null && type.BaseList is null)
        {
            updated = type.WithParameterList(type.ParameterList.WithTrailingTrivia())
                .WithBaseList(SyntaxFactory.BaseList(SyntaxFactory.SingletonSeparatedList<BaseTypeSyntax>(interfaceType)).WithTrailingTrivia(type.ParameterList.GetTrailingTrivia()));
        }

        var hasInit = type.Members.OfType<MethodDeclarationSyntax>().Any(m => m.Identifier.ValueText == "InitAsync" && m.ParameterList.Parameters.Count == 2);
        if (!hasInit)
        {
            var stub = (MethodDeclarationSyntax)SyntaxFactory.ParseMemberDeclaration("""
                public global::System.Threading.Tasks.Task InitAsync(global::Microsoft.AspNetCore.Routing.IEndpointRouteBuilder router, global::System.Threading.CancellationToken cancellationToken)
                {
                    // Register routes here, before the first await.
                    return global::System.Threading.Tasks.Task.CompletedTask;
                }
                """)!;
            if (type.Members.Count > 0)
            {
                // A blank line between the last member and the stub, in the document's own line ending.
                var endOfLine = root.DescendantTrivia().FirstOrDefault(t => t.IsKind(SyntaxKind.EndOfLineTrivia));
                stub = stub.WithLeadingTrivia(endOfLine.IsKind(SyntaxKind.EndOfLineTrivia) ? endOfLine : SyntaxFactory.EndOfLine("\n"));
            }

            updated = updated.AddMembers(stub.WithAdditionalAnnotations(Simplifier.Annotation, Formatter.Annotation));
        }

        var document2 = document.WithSyntaxRoot(root.ReplaceNode(type, updated.WithAdditionalAnnotations(Formatter.Annotation)));
        document2 = await Simplifier.ReduceAsync(document2, Simplifier.Annotation, cancellationToken: cancellationToken).ConfigureAwait(false);
        return await Formatter.FormatAsync(document2, Formatter.Annotation, cancellationToken: cancellationToken).ConfigureAwait(false);
    }
}
