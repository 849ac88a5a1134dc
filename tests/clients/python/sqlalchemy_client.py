"""SQLAlchemy 2 against the server the runner started: Core, the ORM,
reflection through inspect(), on the psycopg 3, psycopg2 and asyncpg
dialects."""

import asyncio
import datetime
import decimal
import uuid

import sqlalchemy as sa
from sqlalchemy import exc, orm
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.ext.asyncio import create_async_engine

from harness import DB, HOST, PASSWORD, PORT, STREAM_ROWS, USER, check, eq, finish, max_rss_mb


def url(driver):
    return sa.URL.create(f"postgresql+{driver}", username=USER, password=PASSWORD, host=HOST,
                         port=PORT, database=DB)


engine = sa.create_engine(url("psycopg"))
meta = sa.MetaData()

authors = sa.Table(
    "sa_authors", meta,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(80), nullable=False, unique=True),
    sa.Column("born", sa.Date),
    sa.Column("rating", sa.Numeric(4, 2), server_default="5.00"),
    sa.Column("tags", pg.ARRAY(sa.Text)),
    sa.Column("profile", pg.JSONB),
    sa.Column("key", sa.Uuid, default=uuid.uuid4),
    sa.Column("created", sa.DateTime(timezone=True), server_default=sa.func.now()),
)
books = sa.Table(
    "sa_books", meta,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("author_id", sa.Integer, sa.ForeignKey("sa_authors.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("pages", sa.SmallInteger, sa.CheckConstraint("pages > 0", name="pages_positive")),
    sa.Column("price", sa.Float),
)
sa.Index("sa_books_title_pages", books.c.title, books.c.pages)


@check
def core_create_all():
    meta.drop_all(engine)
    meta.create_all(engine)
    eq(sorted(sa.inspect(engine).get_table_names()), ["sa_authors", "sa_books"])


@check
def core_insert_select_update_delete():
    with engine.begin() as c:
        r = c.execute(authors.insert().returning(authors.c.id), [
            {"id": 1, "name": "Ann", "born": datetime.date(1970, 1, 2), "tags": ["a", "b"],
             "profile": {"x": 1}},
            {"id": 2, "name": "Bob", "born": None, "tags": None, "profile": None},
        ])
        eq(sorted(x[0] for x in r), [1, 2])
        c.execute(books.insert(), [
            {"author_id": 1, "title": "One", "pages": 100, "price": 9.5},
            {"author_id": 1, "title": "Two", "pages": 200, "price": 19.5},
            {"author_id": 2, "title": "Three", "pages": 300, "price": None},
        ])
    with engine.connect() as c:
        q = (sa.select(authors.c.name, sa.func.count(books.c.id).label("n"),
                       sa.func.sum(books.c.pages))
             .join(books, books.c.author_id == authors.c.id)
             .group_by(authors.c.name).order_by(authors.c.name))
        eq([tuple(r) for r in c.execute(q)], [("Ann", 2, 300), ("Bob", 1, 300)])
        row = c.execute(sa.select(authors).where(authors.c.id == 1)).one()
        eq(row.tags, ["a", "b"])
        eq(row.profile, {"x": 1})
        eq(row.rating, decimal.Decimal("5.00"))
        c.execute(authors.update().where(authors.c.id == 2).values(rating=decimal.Decimal("3.5")))
        eq(c.execute(sa.select(authors.c.rating).where(authors.c.id == 2)).scalar(),
           decimal.Decimal("3.50"))
        c.rollback()
        assert isinstance(row.key, uuid.UUID)
        assert row.created.tzinfo is not None
        eq(c.execute(sa.select(authors.c.name).where(authors.c.tags.contains(["b"]))).scalar(),
           "Ann")
        eq(c.execute(sa.select(authors.c.name)
                     .where(authors.c.profile["x"].as_integer() == 1)).scalar(), "Ann")
    with engine.begin() as c:
        c.execute(books.update().where(books.c.title == "One").values(pages=books.c.pages + 1))
        c.execute(authors.delete().where(authors.c.id == 2))
    with engine.connect() as c:
        eq(c.execute(sa.select(sa.func.count()).select_from(books)).scalar(), 2)
        eq(c.execute(sa.select(books.c.pages).where(books.c.title == "One")).scalar(), 101)


@check
def core_upsert_and_errors():
    with engine.begin() as c:
        stmt = pg.insert(authors).values(id=1, name="Ann")
        stmt = stmt.on_conflict_do_update(index_elements=["id"], set_={"born": None})
        c.execute(stmt)
        eq(c.execute(sa.select(authors.c.born).where(authors.c.id == 1)).scalar(), None)
    try:
        with engine.begin() as c:
            c.execute(authors.insert().values(id=3, name="Ann"))
    except exc.IntegrityError as e:
        eq(e.orig.sqlstate, "23505")
    else:
        raise AssertionError("duplicate name accepted")
    try:
        with engine.begin() as c:
            c.execute(books.insert().values(author_id=99, title="x"))
    except exc.IntegrityError as e:
        eq(e.orig.sqlstate, "23503")
    try:
        with engine.begin() as c:
            c.execute(books.insert().values(author_id=1, title="x", pages=0))
    except exc.IntegrityError as e:
        eq(e.orig.sqlstate, "23514")


@check
def reflection_inspect():
    insp = sa.inspect(engine)
    cols = {c["name"]: c for c in insp.get_columns("sa_books")}
    eq(list(cols), ["id", "author_id", "title", "pages", "price"])
    eq(type(cols["id"]["type"]), sa.BIGINT)
    eq(type(cols["pages"]["type"]), sa.SMALLINT)
    eq(cols["title"]["nullable"], False)
    assert cols["id"].get("identity") is not None, cols["id"]
    eq(insp.get_pk_constraint("sa_books")["constrained_columns"], ["id"])
    fks = insp.get_foreign_keys("sa_books")
    eq([(f["referred_table"], f["constrained_columns"], f["referred_columns"],
         f["options"].get("ondelete")) for f in fks],
       [("sa_authors", ["author_id"], ["id"], "CASCADE")])
    idx = {i["name"]: i for i in insp.get_indexes("sa_books")}
    eq(idx["sa_books_title_pages"]["column_names"], ["title", "pages"])
    eq(idx["ix_sa_books_author_id"]["unique"], False)
    # Default operator classes only: no postgresql_ops to report.
    eq(idx["sa_books_title_pages"]["dialect_options"].get("postgresql_ops"), None)
    uqs = insp.get_unique_constraints("sa_authors")
    eq([u["column_names"] for u in uqs], [["name"]])
    checks = insp.get_check_constraints("sa_books")
    eq([c["name"] for c in checks], ["pages_positive"])
    acols = {c["name"]: c for c in insp.get_columns("sa_authors")}
    eq(type(acols["name"]["type"]), sa.VARCHAR)
    eq(acols["name"]["type"].length, 80)
    eq(type(acols["tags"]["type"]), pg.ARRAY)
    eq(type(acols["rating"]["type"]), sa.NUMERIC)
    eq((acols["rating"]["type"].precision, acols["rating"]["type"].scale), (4, 2))
    assert "5.00" in str(acols["rating"]["default"]), acols["rating"]["default"]
    reflected = sa.MetaData()
    t = sa.Table("sa_books", reflected, autoload_with=engine)
    eq([c.name for c in t.primary_key], ["id"])
    eq(insp.get_schema_names().count("public"), 1)
    assert insp.has_table("sa_authors") and not insp.has_table("nope")


class Base(orm.DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "orm_authors"
    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(50))
    books: orm.Mapped[list["Book"]] = orm.relationship(back_populates="author",
                                                       cascade="all, delete-orphan")


class Book(Base):
    __tablename__ = "orm_books"
    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    title: orm.Mapped[str]
    author_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("orm_authors.id"))
    author: orm.Mapped[Author] = orm.relationship(back_populates="books")


@check
def orm_session():
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    with orm.Session(engine) as s:
        a = Author(name="Carol", books=[Book(title="X"), Book(title="Y")])
        s.add(a)
        s.commit()
        aid = a.id
    with orm.Session(engine) as s:
        a = s.get(Author, aid)
        eq(sorted(b.title for b in a.books), ["X", "Y"])
        a.books[0].title = "X2"
        s.add(Author(name="Dan"))
        s.flush()
        n = s.scalar(sa.select(sa.func.count(Author.id)))
        eq(n, 2)
        s.rollback()
        eq(s.scalar(sa.select(sa.func.count(Author.id))), 1)
        q = (sa.select(Author).options(orm.selectinload(Author.books))
             .where(Author.books.any(Book.title == "Y")))
        eq([x.name for x in s.scalars(q)], ["Carol"])
        with s.begin_nested():
            s.add(Book(title="Z", author_id=aid))
        s.expire_all()
        s.delete(s.get(Author, aid))
        s.commit()
        eq(s.scalar(sa.select(sa.func.count(Book.id))), 0)


@check
def stream_results_server_side():
    before = max_rss_mb()
    with engine.connect() as c:
        r = c.execution_options(stream_results=True, max_row_buffer=5000).execute(
            sa.text("SELECT g FROM generate_series(1, :n) g"), {"n": STREAM_ROWS})
        n = sum(1 for _ in r)
    eq(n, STREAM_ROWS)
    grew = max_rss_mb() - before
    assert grew < 100, f"client memory grew {grew:.0f} MB"


@check
def psycopg2_dialect():
    e = sa.create_engine(url("psycopg2"))
    with e.connect() as c:
        eq(c.execute(sa.select(authors.c.name).order_by(authors.c.id)).scalars().all(), ["Ann"])
        eq(sorted(sa.inspect(c).get_table_names()),
           ["orm_authors", "orm_books", "sa_authors", "sa_books"])
    e.dispose()


@check
def asyncpg_dialect():
    async def go():
        e = create_async_engine(url("asyncpg"))
        async with e.connect() as c:
            r = await c.execute(sa.select(books.c.title).order_by(books.c.title))
            eq(r.scalars().all(), ["One", "Two"])
            names = await c.run_sync(lambda sc: sa.inspect(sc).get_table_names())
            eq(sorted(names), ["orm_authors", "orm_books", "sa_authors", "sa_books"])
        await e.dispose()
    asyncio.run(go())


finish()
